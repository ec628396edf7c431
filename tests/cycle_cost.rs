//! The per-operation table reproduces its published anchors (Horowitz,
//! ISSCC 2014, 45 nm) and scales widths as documented in hw/COST.md.
use sqsim::cycle::cost::CostTable;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

#[test]
fn anchors_and_scaling() {
    let t = CostTable::default();
    // published points
    assert!(close(t.add(8).pj, 0.03) && close(t.add(32).pj, 0.1));
    assert!(close(t.add(8).um2, 36.0) && close(t.add(32).um2, 137.0));
    assert!(close(t.mul(8, 8).pj, 0.2) && close(t.mul(32, 32).pj, 3.1));
    assert!(close(t.mul(8, 8).um2, 282.0) && close(t.mul(32, 32).um2, 3495.0));
    assert!(close(t.sram_pj_per_bit(8192.0) * 64.0, 10.0));
    assert!(close(t.sram_pj_per_bit(32768.0) * 64.0, 20.0));
    assert!(close(t.sram_pj_per_bit(1048576.0) * 64.0, 100.0));
    assert!(close(t.dram_pj_per_bit() * 64.0, 1950.0)); // midpoint of 1.3–2.6 nJ
                                                        // adders linear in width between anchors: 20 bits = halfway → 0.065 pJ
    assert!(close(t.add(20).pj, 0.065));
    // (Horowitz's own 16-bit add is 0.05 pJ; the line gives 0.0533)
    assert!((t.add(16).pj - 0.05).abs() < 0.004);
    // below 8 bits: proportional; multipliers by partial-product bits a·b
    assert!(close(t.add(4).pj, 0.015));
    assert!(close(t.mul(4, 8).pj, 0.1));
    assert!(close(t.mul(16, 34).um2, 282.0 + (544.0 - 64.0) * (3495.0 - 282.0) / 960.0));
    // 16 KB bank: geometric mean of the 8 KB and 32 KB points
    assert!(close(t.sram_pj_per_bit(16384.0) * 64.0, (10.0f64 * 20.0).sqrt()));
    // NanGate ratios: a 2:1 mux bit is 1.862/4.256 of a full-adder bit (36/8 µm²)
    assert!(close(t.mux2(8).um2, 36.0 * 1.862 / 4.256));
    assert!(close(t.regs(8).um2, 36.0 * 4.522 / 4.256));
    // barrel shifter over 0..63: 6 mux stages
    assert!(close(t.barrel(10, 64).um2, t.mux2(60).um2));
}
