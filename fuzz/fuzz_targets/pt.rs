#![no_main]
//! `.pt` / `.pth` checkpoints (zip and legacy pickle) through `StateDict::read`
//! and the architecture builder. `read_pt` catches panics inside
//! pytorch-reader by design (documented there); libfuzzer's panic hook
//! aborts before `catch_unwind` can see them, so the default hook is restored
//! here: only a panic that escapes sqsim's own code counts as a crash.
use libfuzzer_sys::fuzz_target;
use std::sync::Once;
mod common;

static INIT: Once = Once::new();

fuzz_target!(|data: &[u8]| {
    INIT.call_once(|| {
        let _ = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
    });
    let p = common::scratch().join(if data.first().is_some_and(|b| b & 1 == 1) { "m.pth" } else { "m.pt" });
    std::fs::write(&p, data).unwrap();
    if let Ok(sd) = sqsim::model::StateDict::read(&p) {
        let _ = sqsim::model::from_state_dict("fuzz", &sd);
    }
});
