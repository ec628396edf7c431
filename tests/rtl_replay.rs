//! RTL vectors end to end: the reference RTL replays the committed vectors on
//! Icarus Verilog; a corrupted expected word and mutated RTL make the bench
//! fail; `sqsim vectors` writes byte-identical files on every run and thread
//! count, and every manifest's hashes and field layout match its files.
//! Without `iverilog` on PATH the simulator tests print one "skipped: …"
//! line and return, except under CI (`CI` or `SQSIM_REQUIRE_RTL` set), where
//! a missing simulator fails them; `.ci/run` installs it.
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn have(tool: &str) -> bool {
    Command::new("sh").arg("-c").arg(format!("command -v {tool}")).output().map(|o| o.status.success()).unwrap_or(false)
}

/// Runs hw/run_rtl.sh; returns (exit status 0, stdout + stderr).
fn run_rtl(args: &[&str]) -> (bool, String) {
    let out = Command::new("bash").arg(root().join("hw/run_rtl.sh")).args(args).output().expect("bash runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() {
            std::fs::copy(e.path(), dst.join(e.file_name())).unwrap();
        }
    }
}

fn skip_without_iverilog() -> bool {
    if have("iverilog") && have("vvp") {
        return false;
    }
    let required = std::env::var_os("CI").is_some() || std::env::var_os("SQSIM_REQUIRE_RTL").is_some();
    assert!(!required, "iverilog/vvp not on PATH, and CI or SQSIM_REQUIRE_RTL requires the RTL replay");
    eprintln!("skipped: iverilog/vvp not on PATH, RTL replay not run (.ci/run installs them)");
    true
}

#[test]
fn pe_bench_passes_committed_vectors_and_fails_a_corrupted_copy() {
    if skip_without_iverilog() {
        return;
    }
    let pe = root().join("vectors/pe");
    let (ok, out) = run_rtl(&["--sim", "icarus", pe.to_str().unwrap()]);
    assert!(ok, "committed PE vectors must pass:\n{out}");
    assert!(out.contains("PASS icarus pe: vectors 1290 mismatches 0"), "{out}");

    // flip one hex digit of one expected word (cycle 7, lowest digit: ovf / psum_out bits)
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("pe");
    copy_dir(&pe, &bad);
    let text = std::fs::read_to_string(bad.join("expect.hex")).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let last = lines[7].pop().unwrap();
    lines[7].push(if last == '0' { '1' } else { '0' });
    std::fs::write(bad.join("expect.hex"), lines.join("\n") + "\n").unwrap();
    let (ok, out) = run_rtl(&["--sim", "icarus", bad.to_str().unwrap()]);
    assert!(!ok, "a corrupted expected word must fail the bench:\n{out}");
    // the flipped bit is the word's LSB, the ovf flag: the report names it
    assert!(out.contains("MISMATCH cycle 7 signal dut.ovf got "), "{out}");
    assert!(out.contains("RESULT FAIL 1 of 1290"), "{out}");
}

#[test]
fn mutated_rtl_fails_the_committed_vectors() {
    if skip_without_iverilog() {
        return;
    }
    // (file, original, mutant, unit): a wrong shift choice, ties going up, a
    // truncated exponent, a stats pass that never lowers min, μ's ties
    // rounding toward 0, M̂'s ties going down, M̂ allowed to round to 0, a
    // pow2 M̂ that must exceed M', a truncated threshold exponent, a μ term
    // one fractional bit off, output rounding ties going down, a truncated
    // left shift, a shift past the product not forced to 0, swapped weight
    // banks, a right border one column late, line memories read in the wrong order
    let mutants = [
        ("sq_pe_core.v", "localparam [3:0] S2 = i + 7;", "localparam [3:0] S2 = i + 6;", "pe"),
        ("sq_quant.v", "< v) cnt", "<= v) cnt", "quantizer"),
        ("sq_denorm.v", "sh  = pmx <<< e;", "sh  = pmx <<< e[3:0];", "denorm"),
        ("sq_stats_acc.v", "(clr || x < lo)", "(clr || x <= lo && x > lo)", "stats"),
        ("sq_norm_enc.v", "(mag + {1'b0, nq[SB-1:1]})", "(mag + {2'b0, nq[SB-1:2]})", "norm"),
        ("sq_norm_enc.v", "mx = (sp + ((ONE <<< e) >>> 1)) >>> e;", "mx = (sp + ((ONE <<< e) >>> 1) - ONE) >>> e;", "norm"),
        ("sq_norm_enc.v", "if (mx == 0 && sp > 0) mx = ONE;", "if (1'b0) mx = ONE;", "norm"),
        ("sq_norm_enc.v", "if (sp <= (ONE <<< e)) begin", "if (sp < (ONE <<< e)) begin", "denorm_pow2/norm"),
        ("sq_thresh.v", "thr <= tm_x <<< e;", "thr <= tm_x <<< e[3:0];", "thresh"),
        ("sq_mu.v", "ms, {F{1'b0}}", "ms[PW-2:0], {(F+1){1'b0}}", "mu"),
        ("sq_requant.v", "(prod + half) >>> rs", "(prod + half - 1'b1) >>> rs", "requant"),
        ("sq_requant.v", "prod <<< ls;", "prod <<< ls[3:0];", "requant"),
        ("sq_requant.v", ">= IW - 1);", ">= IW + 1);", "requant"),
        ("sq_array_ws.v", "wsel = tin[TB] ? wb1 : wb0", "wsel = tin[TB] ? wb0 : wb1", "array"),
        // the line buffer: the right border one column late, the lines read in the wrong order
        ("sq_linebuf.v", "sx < WI)", "sx <= WI)", "linebuf"),
        ("sq_linebuf.v", "lb[(K - 2 - r) * WI + x0]", "lb[r * WI + x0]", "linebuf"),
    ];
    for (file, from, to, unit) in mutants {
        let tmp = tempfile::tempdir().unwrap();
        copy_dir(&root().join("hw/rtl"), tmp.path());
        let p = tmp.path().join(file);
        let src = std::fs::read_to_string(&p).unwrap();
        assert!(src.contains(from), "{file} no longer contains `{from}`: update the mutant");
        std::fs::write(&p, src.replacen(from, to, 1)).unwrap();
        let dir = root().join("vectors").join(unit);
        let (ok, out) = run_rtl(&["--sim", "icarus", "--rtl", tmp.path().to_str().unwrap(), dir.to_str().unwrap()]);
        assert!(!ok, "mutant `{to}` in {file} must fail:\n{out}");
        assert!(out.contains("MISMATCH"), "{out}");
    }
}

/// A small whole-layer set (a channel cut of a real layer), written into `dir`.
fn small_layer_set(dir: &Path, unit: &str, extra: &[&str]) {
    let o = Command::new(env!("CARGO_BIN_EXE_sqsim"))
        .current_dir(root())
        .args(["vectors", "--model", "edsr_x2", "--bits", "4", "--unit", unit, "--quiet", "--out"])
        .arg(dir)
        .args(extra)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn layer_engine_matches_the_model_and_the_cycle_count_and_mutants_fail() {
    if skip_without_iverilog() {
        return;
    }
    // weight-bound (6 pixels per pass, 20 outputs: a full and a partial column
    // group), and narrow wrapping registers with real tap-sum and accumulator overflows
    let tmp = tempfile::tempdir().unwrap();
    let (wb, nw) = (tmp.path().join("sets/weight_bound"), tmp.path().join("sets/narrow"));
    let cut = ["--layer", "body.0.body.0", "--tile", "5,7,2,3", "--channels", "3,20"];
    small_layer_set(&wb, "layer", &cut);
    small_layer_set(&nw, "layer", &["--layer", "body.1.body.0", "--tile", "0,0,5,6", "--channels", "6,6", "--hw", "hw/tb/narrow_wrap.toml"]);
    // the same cut on the integer-multiplier baseline engine: the LUT holds s, same outputs
    let wi = tmp.path().join("sets/weight_bound_int");
    small_layer_set(&wi, "layer_int", &cut);
    let mf = |d: &Path| -> Value { serde_json::from_slice::<Value>(&std::fs::read(d.join("manifest.json")).unwrap()).unwrap() };
    assert_eq!(mf(&wi)["params"]["MULT"], 1);
    assert_eq!(mf(&wi)["params"]["CW"], 12);
    assert_eq!(mf(&wi)["expect_signature"], mf(&wb)["expect_signature"], "both engines expect the same outputs");
    assert_ne!(std::fs::read(wi.join("stim.hex")).unwrap(), std::fs::read(wb.join("stim.hex")).unwrap(), "the LUT loads differ (s, not codes)");
    let params = |d: &Path| -> Value { serde_json::from_slice::<Value>(&std::fs::read(d.join("manifest.json")).unwrap()).unwrap()["params"].clone() };
    let (pw, pn) = (params(&wb), params(&nw));
    // the closed form (9 + 3·6 + 8 + 15 + 4 per group) would be lower: the loader binds
    assert_eq!(pw["EXP_CYC_ARRAY"], 97);
    assert!(pn["EXP_OVF_TAP"].as_i64().unwrap() > 0 && pn["EXP_OVF_ACC"].as_i64().unwrap() > 0, "{pn}");
    let sets = tmp.path().join("sets");
    let (ok, out) = run_rtl(&["--sim", "icarus", sets.to_str().unwrap()]);
    assert!(ok, "{out}");
    assert!(out.contains("PASS icarus weight_bound: vectors 234 mismatches 0"), "{out}");
    assert!(out.contains("array 97 (cycle model 97)"), "the engine's array phase takes the cycle model's count:\n{out}");
    assert!(out.contains("PASS icarus weight_bound_int: vectors 234 mismatches 0"), "{out}");
    // a bank freed one cycle early, swapped top/bottom border classes, the
    // first channel accumulating onto a stale psum, tap-sum overflows not counted,
    let mutants = [
        ("last_iss[lp[0]] + C - 1) ? l0 + LW - 1 : last_iss[lp[0]] + C - 1)", "last_iss[lp[0]] + C - 2) ? l0 + LW - 1 : last_iss[lp[0]] + C - 2)", "cyc_array"),
        ("y == H - 1, y == 0, x == WI - 1", "y == 0, y == H - 1, x == WI - 1", "dut.omem"),
        (".acc_in(m1[MT-2] ? {D{1'b0}} : pm[m1[31:0]])", ".acc_in(pm[m1[31:0]])", "dut.omem"),
        ("ovf_tap <= ovf_tap + popc(a_ov);", "ovf_tap <= ovf_tap;", "ovf_tap"),
        // the issue reading the other parity's line buffer; passes >= 2 streaming the wrong channel
        ("in_code[KK*CW-1:0] = lb_code[ip[0]];", "in_code[KK*CW-1:0] = lb_code[!ip[0]];", "dut.omem"),
        ("fch <= (ch1 == CIN - 1) ? 0 : ch1 + 1;", "fch <= ch1;", "dut.omem"),
    ];
    let int_mutants = [
        // the integer PE zero-extends the weight; the engine drops MULT and runs shift-add PEs on s
        ("sq_int_core.v", "{{A{w[W-1]}}, w} * {{W{a[A-1]}}, a}", "{{A{1'b0}}, w} * {{W{a[A-1]}}, a}", "dut.omem"),
        ("sq_layer.v", ".MULT(MULT), .CW(CW)) arr (", ".MULT(0), .CW(CW)) arr (", "dut.omem"),
    ];
    for (file, from, to, named) in mutants.map(|(f, t, n)| ("sq_layer.v", f, t, n)).into_iter().chain(int_mutants) {
        let rtl = tempfile::tempdir().unwrap();
        copy_dir(&root().join("hw/rtl"), rtl.path());
        let p = rtl.path().join(file);
        let src = std::fs::read_to_string(&p).unwrap();
        assert!(src.contains(from), "{file} no longer contains `{from}`: update the mutant");
        std::fs::write(&p, src.replacen(from, to, 1)).unwrap();
        let (ok, out) = run_rtl(&["--sim", "icarus", "--rtl", rtl.path().to_str().unwrap(), sets.to_str().unwrap()]);
        assert!(!ok, "mutant `{to}` must fail:\n{out}");
        assert!(out.contains("MISMATCH") && out.contains(named), "mutant `{to}`: {out}");
    }
}

/// `MISMATCH cycle N signal S got G expected E` lines as (N, S, G, E).
fn mismatch_lines(out: &str) -> Vec<(usize, String, String, String)> {
    out.lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            (w.len() == 9 && w[0] == "MISMATCH" && w[1] == "cycle" && w[3] == "signal" && w[5] == "got" && w[7] == "expected")
                .then(|| (w[2].parse().unwrap(), w[4].to_string(), w[6].to_string(), w[8].to_string()))
        })
        .collect()
}

#[test]
fn a_mismatch_names_its_cycle_and_signal_and_the_vcds_show_it() {
    if skip_without_iverilog() {
        return;
    }
    // the committed array set's source, with the model's waveform
    let tmp = tempfile::tempdir().unwrap();
    let set = tmp.path().join("array");
    let o = Command::new(env!("CARGO_BIN_EXE_sqsim"))
        .args(["vectors", "--model", "edsr_x2", "--bits", "4", "--unit", "array", "--layer", "body.0.body.0", "--seed", "0", "--vcd", "--quiet", "--out"])
        .arg(&set)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for f in ["stim.hex", "expect.hex", "fields.txt", "manifest.json"] {
        assert!(std::fs::read(set.join(f)).unwrap() == std::fs::read(root().join("vectors/array").join(f)).unwrap(), "{f}: --vcd changes the set (or vectors/ is stale: scripts/gen_vectors.sh)");
    }
    let bin = env!("CARGO_BIN_EXE_sqsim");
    let dumps = tmp.path().join("dumps");
    let run = |rtl: &Path| {
        let out = Command::new("bash")
            .arg(root().join("hw/run_rtl.sh"))
            .args(["--sim", "icarus", "--rtl", rtl.to_str().unwrap(), "--vcd", dumps.to_str().unwrap(), set.to_str().unwrap()])
            .env("SQSIM_BIN", bin)
            .output()
            .unwrap();
        (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
    };
    let (ok, out) = run(&root().join("hw/rtl"));
    assert!(ok && out.contains("VCD icarus array: identical: 144 signals over 115 cycles"), "{out}");

    // swapped weight banks: the tb names PE psums; vcd-diff finds the same first cycle
    let rtl = tmp.path().join("rtl");
    copy_dir(&root().join("hw/rtl"), &rtl);
    let p = rtl.join("sq_array_ws.v");
    let src = std::fs::read_to_string(&p).unwrap();
    let (from, to) = ("wsel = tin[TB] ? wb1 : wb0", "wsel = tin[TB] ? wb0 : wb1");
    assert!(src.contains(from), "sq_array_ws.v no longer contains `{from}`: update the mutant");
    std::fs::write(&p, src.replacen(from, to, 1)).unwrap();
    let (ok, out) = run(&rtl);
    assert!(!ok, "{out}");
    let lines = mismatch_lines(&out);
    assert!(!lines.is_empty(), "{out}");
    // each named value is the CSV's expected value of that signal's field at that cycle
    let m: Value = serde_json::from_slice(&std::fs::read(set.join("manifest.json")).unwrap()).unwrap();
    let mut rd = csv::Reader::from_path(set.join("vectors.csv")).unwrap();
    let head: Vec<String> = rd.headers().unwrap().iter().map(String::from).collect();
    let rows: Vec<Vec<String>> = rd.records().map(|r| r.unwrap().iter().map(String::from).collect()).collect();
    for (n, sig, got, want) in &lines {
        assert!(sig.starts_with("dut.g_row[") && sig.contains("].g_col["), "{sig}");
        let f = m["layout"]["expect_fields"].as_array().unwrap().iter().find(|f| f["signal"] == sig.as_str()).unwrap_or_else(|| panic!("{sig}"));
        let col = head.iter().position(|h| *h == format!("exp_{}", f["name"].as_str().unwrap())).unwrap();
        assert_eq!(&rows[*n][col], want, "cycle {n} {sig}");
        assert_ne!(got, want);
    }
    let first = lines[0].0;
    let diff = std::fs::read_to_string(dumps.join("array.icarus.vcd.diff")).unwrap();
    assert!(diff.starts_with(&format!("first difference at cycle {first} ")), "{diff}\n{out}");
    assert!(diff.contains(&format!("tb_array.{}", lines[0].1)), "{diff}");
}

fn sha256_hex(b: &[u8]) -> String {
    Sha256::digest(b).iter().map(|x| format!("{x:02x}")).collect()
}

/// Field value from a hex word: bits [lsb, lsb + bits), two's complement if signed.
fn field(hex: &str, lsb: usize, bits: usize, signed: bool) -> i128 {
    let lsb_first: Vec<bool> = hex
        .chars()
        .rev()
        .flat_map(|c| {
            let d = c.to_digit(16).expect("hex digit");
            (0..4).map(move |b| (d >> b) & 1 == 1)
        })
        .collect();
    let mut v: i128 = 0;
    for b in (0..bits).rev() {
        v = (v << 1) | lsb_first[lsb + b] as i128;
    }
    if signed && lsb_first[lsb + bits - 1] {
        v -= 1i128 << bits;
    }
    v
}

/// Every file the manifest lists hashes to its entry, nothing else is there,
/// and each hex line decodes (per the manifest layout) to the CSV's values.
fn check_set(dir: &Path) {
    let m: Value = serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    let files = m["files"].as_object().unwrap();
    let mut names: Vec<String> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    let mut listed: Vec<String> = files.keys().cloned().chain(["manifest.json".to_string()]).collect();
    listed.sort();
    assert_eq!(names, listed, "{}", dir.display());
    for (name, h) in files {
        assert_eq!(sha256_hex(&std::fs::read(dir.join(name)).unwrap()), h.as_str().unwrap(), "{}/{name}", dir.display());
    }
    let mut rd = csv::Reader::from_path(dir.join("vectors.csv")).unwrap();
    let head: Vec<String> = rd.headers().unwrap().iter().map(String::from).collect();
    let rows: Vec<Vec<String>> = rd.records().map(|r| r.unwrap().iter().map(String::from).collect()).collect();
    assert_eq!(rows.len() as u64, m["rows"].as_u64().unwrap());
    for (file, key, prefix) in [("stim.hex", "stim_fields", ""), ("expect.hex", "expect_fields", "exp_")] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        let hex: Vec<&str> = text.lines().collect();
        assert_eq!(hex.len(), rows.len());
        let width = m["layout"][key.replace("fields", "bits")].as_u64().unwrap() as usize;
        for (line, row) in hex.iter().zip(&rows) {
            assert_eq!(line.len(), width.div_ceil(4), "fixed-width hex words");
            for f in m["layout"][key].as_array().unwrap() {
                let name = format!("{prefix}{}", f["name"].as_str().unwrap());
                let col = head.iter().position(|h| *h == name).unwrap_or_else(|| panic!("no CSV column {name}"));
                let v = field(line, f["lsb"].as_u64().unwrap() as usize, f["bits"].as_u64().unwrap() as usize, f["signed"].as_bool().unwrap());
                assert_eq!(v.to_string(), row[col], "{} {name}", dir.display());
            }
        }
    }
}

/// Every unit `sqsim vectors --unit all` writes (one subdirectory each).
const UNITS: [&str; 10] = ["pe", "quantizer", "denorm", "stats", "norm", "thresh", "mu", "requant", "array", "linebuf"];

#[test]
fn committed_vectors_match_their_manifests() {
    for unit in UNITS {
        check_set(&root().join("vectors").join(unit));
        check_set(&root().join("vectors/narrow_wrap").join(unit));
    }
    let sets = ["layer/edsr_x2.body.0.body.0", "layer/edsr_x2.body.3.body.2", "layer/rdn_x2.LFF_1", "narrow_wrap/layer", "layer_int/edsr_x2.body.0.body.0"];
    for set in sets {
        let dir = root().join("vectors").join(set);
        check_set(&dir);
        let m: Value = serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
        assert_eq!(m["unit"], set.split('/').next().unwrap().replace("narrow_wrap", "layer"));
        assert_eq!(m["params"]["MULT"], (m["unit"] == "layer_int") as i64, "{set}");
        let p = &m["params"];
        // whole layers: every input and output channel of the real conv
        assert_eq!(p["CIN"].as_i64(), m["source"]["layer_shape"]["in_c"].as_i64());
        assert!(p["CIN"].as_i64().unwrap() >= 64 && p["COUT"] == 64, "{set}: {p}");
        assert_eq!((p["R"].as_i64(), p["C"].as_i64()), (Some(9), Some(16)), "{set}: the default 9x16 array");
    }
    // the integer-multiplier baseline engine expects the shift-add engine's outputs, bit for bit
    let mf = |set: &str| -> Value { serde_json::from_slice(&std::fs::read(root().join("vectors").join(set).join("manifest.json")).unwrap()).unwrap() };
    assert_eq!(mf("layer_int/edsr_x2.body.0.body.0")["expect_signature"], mf("layer/edsr_x2.body.0.body.0")["expect_signature"]);
    let nw: Value = serde_json::from_slice(&std::fs::read(root().join("vectors/narrow_wrap/layer/manifest.json")).unwrap()).unwrap();
    assert!(nw["params"]["EXP_OVF_TAP"].as_i64().unwrap() > 0 && nw["params"]["EXP_OVF_ACC"].as_i64().unwrap() > 0);
    for f in ["pow2", "full"] {
        let dir = root().join(format!("vectors/denorm_{f}/norm"));
        check_set(&dir);
        let m: Value = serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
        assert_eq!(m["hw_config"]["denorm"]["format"], f);
    }
}

/// Real rows (not corners) whose expected `exp_ovf` is 1, from the CSV.
fn real_overflow_rows(dir: &Path) -> usize {
    let mut rd = csv::Reader::from_path(dir.join("vectors.csv")).unwrap();
    let head: Vec<String> = rd.headers().unwrap().iter().map(String::from).collect();
    let (k, o) = (head.iter().position(|h| h == "kind").unwrap(), head.iter().position(|h| h == "exp_ovf").unwrap());
    rd.records().map(|r| r.unwrap()).filter(|r| &r[k] == "real" && &r[o] == "1").count()
}

#[test]
fn narrow_wrap_sets_carry_real_overflows() {
    // the narrow config's 18-bit accumulator wraps on real data in the D3 add
    // and in the de-normalization, its 9-bit tap sums in the PE
    let nw = root().join("vectors/narrow_wrap");
    for unit in ["pe", "denorm", "mu"] {
        assert!(real_overflow_rows(&nw.join(unit)) > 0, "narrow_wrap/{unit}: no real row overflows");
    }
    // and the D4 corner rows overflow the 16-bit output word both ways
    let text = std::fs::read_to_string(nw.join("requant/vectors.csv")).unwrap();
    assert!(text.lines().any(|l| l.contains("bias max + 1 overflows") && l.ends_with(",1")), "requant overflow corner");
}

#[test]
fn vectors_command_is_deterministic_and_hashed() {
    let tmp = tempfile::tempdir().unwrap();
    let gen = |out: &Path, threads: &str| {
        let o = Command::new(env!("CARGO_BIN_EXE_sqsim"))
            .args(["vectors", "--model", "edsr_x2", "--bits", "4", "--unit", "all", "--layer", "body.0.body.2"])
            .args(["--count", "40", "--seed", "7", "--tile", "0,0,6,24", "--quiet", "--out"])
            .arg(out)
            .env("RAYON_NUM_THREADS", threads)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    gen(&a, "1");
    gen(&b, "2");
    for unit in UNITS {
        let (da, db) = (a.join(unit), b.join(unit));
        check_set(&da);
        for f in ["stim.hex", "expect.hex", "vectors.csv", "params.txt", "manifest.json"] {
            assert_eq!(std::fs::read(da.join(f)).unwrap(), std::fs::read(db.join(f)).unwrap(), "{unit}/{f} differs between runs");
        }
        let m: Value = serde_json::from_slice(&std::fs::read(da.join("manifest.json")).unwrap()).unwrap();
        match unit {
            "array" => {}
            "norm" => assert_eq!(m["real_rows"], 64, "one real row per input channel"),
            _ => assert_eq!(m["real_rows"], 40),
        }
        assert_eq!(m["source"]["post_relu"], true);
        assert_eq!(m["source"]["tile_yxhw"], serde_json::json!([0, 0, 6, 24]));
    }
    // a bad layer name is a clear error, not a panic
    let o = Command::new(env!("CARGO_BIN_EXE_sqsim"))
        .args(["vectors", "--unit", "pe", "--layer", "nope", "--out"])
        .arg(tmp.path().join("c"))
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("body.0.body.0"), "the error lists the known layers");
}
