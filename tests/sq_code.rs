//! The SQ code and universal set: counts from DATAPATH.md §2, round trips,
//! and the shift-add product (quickcheck).
use quickcheck::{quickcheck, TestResult};
use sqsim::sq::*;

#[test]
fn default_set_has_377_values_189_non_negative() {
    let u = UniversalSet::default();
    assert_eq!(u.len(), 377);
    assert_eq!(u.non_negative_count(), 189);
    assert_eq!(u.frac_bits, 10);
    assert_eq!(u.words.code_bits(), 9);
    let v = u.values();
    assert_eq!(v[0], -1.0);
    assert_eq!(*v.last().unwrap(), 1.0);
    // every value is a multiple of 2^-10 in [-1, 1], strictly increasing
    assert!(v.windows(2).all(|w| w[0] < w[1]));
    // the paper's worked example 0.8125 = (0 + 2^-2 + 1 + 1)/4
    assert!(u.index_of_int((0.8125f64 * 1024.0) as i64).is_some());
}

#[test]
fn default_layout_matches_spec_bits() {
    // [8] sign | [7:6] sel1 | [5:4] sel2 | [3:2] sel3 | [1:0] sel4
    let ws = WordSets::default();
    let c = SqCode::from_raw(0b1_01_10_11_00, &ws).unwrap();
    assert!(c.sign);
    assert_eq!(&c.sel[..4], &[1, 2, 3, 0]);
    let d = c.decode(&ws).unwrap();
    // word1 sel1 -> shift 1+2=3; word2 sel2 -> shift 2+6=8; word3 off; word4 sel0 -> shift 2
    assert_eq!(&d.shifts[..4], &[Some(3), Some(8), None, Some(2)]);
    assert_eq!(d.int_value, -((1 << 7) + (1 << 2) + (1 << 8)));
}

#[test]
fn negative_zero_decodes_to_zero_and_canonical_zero_is_positive() {
    let ws = WordSets::default();
    let u = UniversalSet::default();
    let nz = SqCode::from_raw(0b1_11_11_11_11, &ws).unwrap();
    assert_eq!(nz.decode(&ws).unwrap().int_value, 0);
    let z = u.encode_int(0).unwrap();
    assert_eq!(z.to_raw(&ws), 0b0_11_11_11_11);
}

#[test]
fn every_one_of_512_codes_round_trips_through_the_canonical_encoding() {
    let ws = WordSets::default();
    let u = UniversalSet::default();
    let mut seen = std::collections::BTreeSet::new();
    for raw in 0..512u32 {
        let c = SqCode::from_raw(raw, &ws).unwrap();
        assert_eq!(c.to_raw(&ws), raw);
        let v = c.decode(&ws).unwrap().int_value;
        let canon = u.encode_int(v).unwrap();
        assert_eq!(canon.decode(&ws).unwrap().int_value, v);
        seen.insert(v);
    }
    assert_eq!(seen.len(), 377);
    assert!(SqCode::from_raw(512, &ws).is_err());
}

#[test]
fn ablation_presets_build() {
    for (name, words) in [("ws2", 2), ("ws3", 3), ("ws4", 4), ("ws5", 5)] {
        let ws = WordSets::preset(name).unwrap();
        assert_eq!(ws.words.len(), words);
        let u = UniversalSet::new(ws).unwrap();
        assert!(u.len() > 1);
        let v = u.values();
        assert!(v.iter().all(|x| x.abs() <= 1.0));
    }
    // two word sets, halved: in units of 2^-7 word1 ∈ {64, 32, 2, 0} and
    // word2 ∈ {64, 16, 1, 0}; of the 16 sums only 64 (= 64+0 = 0+64) repeats.
    let u2 = UniversalSet::new(WordSets::preset("ws2").unwrap()).unwrap();
    assert_eq!(u2.frac_bits, 7);
    assert_eq!(u2.ints().iter().filter(|&&v| v >= 0).count(), 15);
}

#[test]
fn malformed_word_sets_are_rejected_with_a_reason() {
    for bad in ["", "2,x", "2,2,off", "2,99", "2;;3"] {
        let e = WordSets::parse(bad).unwrap_err().to_string();
        assert!(e.contains("word sets"), "{bad}: {e}");
    }
    assert!(WordSets::preset("ws9").is_err());
    assert!(WordSets::dfsq(0).is_err());
    let ws = WordSets::parse("2,3,7,off; 2,4,8,off").unwrap();
    assert_eq!(ws.words.len(), 2);
}

#[test]
fn pack_unpack_hand_example() {
    // two 9-bit codes 0x1FF, 0x001 -> 1111_1111 1000_0000 0100_0000 (MSB first)
    let bytes = pack_codes(&[0x1FF, 0x001], 9);
    assert_eq!(bytes, vec![0xFF, 0x80, 0x40]);
    assert_eq!(unpack_codes(&bytes, 9, 2).unwrap(), vec![0x1FF, 0x001]);
    assert!(unpack_codes(&bytes, 9, 3).is_err());
}

/// Truncation below the exact width, against hand-computed vectors:
/// w = -5, code +(2^-2 + 2^-3 + 2^-7): at f = 4 the terms are
/// -5·2^2 = -20, -5·2^1 = -10, floor(-5·2^-3) = floor(-0.625) = -1 → -31;
/// for w = +5 the last term is floor(0.625) = 0 → 30.
#[test]
fn truncation_matches_hand_computed_vectors() {
    let mut shifts = [None; 8];
    shifts[0] = Some(2);
    shifts[1] = Some(3);
    shifts[2] = Some(7);
    let d = Decoded { negative: false, shifts, n_words: 4, int_value: 0 };
    assert_eq!(shift_add(-5, &d, 4), -31);
    assert_eq!(shift_add(5, &d, 4), 30);
    let neg = Decoded { negative: true, ..d };
    // the sign is applied after the floor-truncated sum, so -(+30), -(-31)
    assert_eq!(shift_add(5, &neg, 4), -30);
    assert_eq!(shift_add(-5, &neg, 4), 31);
    // at f = 3 a shift-6 term appears too: shifts {2,3,7} → 2^1, 2^0, 2^-4
    assert_eq!(shift_add(-5, &d, 3), -10 - 5 - 1);
    // at f = 10 it is exact: -5 · (256 + 128 + 8) = -1960
    assert_eq!(shift_add(-5, &d, 10), -1960);
}

fn all_codes() -> Vec<Decoded> {
    let ws = WordSets::default();
    (0..512u32).map(|r| SqCode::from_raw(r, &ws).unwrap().decode(&ws).unwrap()).collect()
}

quickcheck! {
    /// Property: the exact-width shift-add equals the integer multiply, for
    /// every code and any (b+1)-bit weight, b in 2..=8.
    fn shift_add_is_multiply_at_exact_width(w: i16, b: u8) -> TestResult {
        let b = 2 + (b % 7) as u32;
        let lim = 1i64 << b; // (b+1)-bit signed range [-2^b, 2^b)
        let w = (w as i64).rem_euclid(2 * lim) - lim;
        for d in all_codes() {
            if shift_add(w, &d, 10) != w * d.int_value {
                return TestResult::failed();
            }
        }
        TestResult::passed()
    }

    /// Property: below the exact width each term is floor(w·2^(f−shift)).
    fn truncation_is_per_term_floor(w: i32, raw: u16, f: u8) -> bool {
        let ws = WordSets::default();
        let f = (f % 11) as u32;
        let d = SqCode::from_raw(raw as u32 % 512, &ws).unwrap().decode(&ws).unwrap();
        let w = w as i64;
        let mut sum = 0i64;
        for s in d.shifts[..4].iter().flatten() {
            sum += ((w as f64) * 2f64.powi(f as i32 - *s as i32)).floor() as i64;
        }
        shift_add(w, &d, f) == if d.negative { -sum } else { sum }
    }

    /// Property: decode ∘ encode is the identity on U, for every preset.
    fn encode_decode_round_trip(i: usize, preset: u8) -> bool {
        let name = ["ws2", "ws3", "ws4", "ws5"][(preset % 4) as usize];
        let u = UniversalSet::new(WordSets::preset(name).unwrap()).unwrap();
        let v = u.ints()[i % u.len()];
        let c = u.encode_int(v).unwrap();
        let raw = c.to_raw(&u.words);
        SqCode::from_raw(raw, &u.words).unwrap().decode(&u.words).unwrap().int_value == v
    }

    fn pack_round_trip(codes: Vec<u16>) -> bool {
        let codes: Vec<u32> = codes.into_iter().map(|c| c as u32 % 512).collect();
        unpack_codes(&pack_codes(&codes, 9), 9, codes.len()).unwrap() == codes
    }
}
