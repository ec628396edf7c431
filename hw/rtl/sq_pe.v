// sq_pe: the DFSQ shift-add processing element (DATAPATH.md §3.3, hw/SPEC.md).
// psum_out = fit_T(psum_in + (-1)^sign * sum_i floor(w * 2^(F - shift_i)))
// Word i (1..4) of the 9-bit SQ code {sign, sel1..sel4} picks shift 2, i+2,
// i+6 or "off" (sel 3). Each word is a 3:1 mux of fixed shifts of w*2^F (an
// arithmetic right shift floors, which models a narrow F exactly), then one
// adder tree, one conditional negate and the accumulate with overflow
// detection (saturate or wrap per SAT).
// sq_pe_core (sq_pe_core.v) is the combinational datapath, also used by the
// array tile; sq_pe registers its outputs (latency 1). The decoded shifts/enables are
// debug outputs checked by the vectors.
`default_nettype none
module sq_pe #(
    parameter integer W   = 5,
    parameter integer F   = 10,
    parameter integer T   = 24,
    parameter integer SAT = 1
) (
    input  wire                clk,
    input  wire signed [W-1:0] w,
    input  wire        [8:0]   code,
    input  wire signed [T-1:0] psum_in,
    output reg         [15:0]  shift,
    output reg         [3:0]   en,
    output reg  signed [W+F:0] prod,
    output reg  signed [T-1:0] psum_out,
    output reg                 ovf
);
    wire        [15:0]  shift_c;
    wire        [3:0]   en_c;
    wire signed [W+F:0] prod_c;
    wire signed [T-1:0] psum_c;
    wire                ovf_c;
    sq_pe_core #(.W(W), .F(F), .T(T), .SAT(SAT)) core (
        .w(w), .code(code), .psum_in(psum_in),
        .shift(shift_c), .en(en_c), .prod(prod_c), .psum_out(psum_c), .ovf(ovf_c));
    always @(posedge clk) begin
        shift    <= shift_c;
        en       <= en_c;
        prod     <= prod_c;
        psum_out <= psum_c;
        ovf      <= ovf_c;
    end
endmodule
`default_nettype wire
