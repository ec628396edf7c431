//! The SQ code format: word sets, the universal set, codes and the
//! shift-add product. Depends on nothing else in sqsim.
pub mod code;
pub mod shiftadd;
pub mod uset;
pub mod wordset;

pub use code::{pack_codes, unpack_codes, Decoded, SqCode};
pub use shiftadd::{shift_add, shift_term};
pub use uset::UniversalSet;
pub use wordset::{Word, WordSets};
