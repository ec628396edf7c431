// Replays sqsim array-tile vectors through sq_array_ws, one per cycle.
// stim:   {rst, in_valid, in_bank, in_op0..in_op(R-1), in_code0..in_code(R-1),
//          wr_en, wr_row, wr_bank, wr_w0..wr_w(C-1)}     (first field at the top)
// expect: per PE (r, c) in row-major order {tok_valid, tok_code, ps_valid, psum}
`timescale 1ns/1ps
module tb_array;
    parameter integer R = 9, C = 4, RB = 4, W = 5, F = 10, T = 24, SAT = 1;
    parameter integer NVEC = 1, STIM_W = 119, EXP_W = 1260;
    localparam integer STIM_CALC = 3 + R + 9 * R + 1 + RB + 1 + C * W;
    localparam integer EXP_CALC  = R * C * (1 + 9 + 1 + T);

    wire [R*C-1:0]   tv, pv;
    wire [R*C*9-1:0] tcode;
    wire [R*C*T-1:0] ps;
    reg  [EXP_W-1:0] got;
    integer q;
    always @* begin
        got = {EXP_W{1'b0}};
        for (q = 0; q < R * C; q = q + 1)   // PE 0 at the top of the word
            got = {got[EXP_W-1-(11+T):0], tv[q], tcode[q*9 +: 9], pv[q], ps[q*T +: T]};
    end

    // stimulus fields, MSB first; the hex word lists row 0's op/code first
    wire [R-1:0]   op_msb0   = stim_i[STIM_W-4 -: R];
    wire [R*9-1:0] code_msb0 = stim_i[STIM_W-4-R -: R*9];
    reg  [R-1:0]   in_op;
    reg  [R*9-1:0] in_code;
    reg  [C*W-1:0] wr_w;
    integer z;
    always @* begin
        for (z = 0; z < R; z = z + 1) begin
            in_op[z]          = op_msb0[R-1-z];
            in_code[z*9 +: 9] = code_msb0[(R-1-z)*9 +: 9];
        end
        for (z = 0; z < C; z = z + 1)
            wr_w[z*W +: W] = stim_i[(C-1-z)*W +: W];
    end

    `include "tb_common.vh"

    sq_array_ws #(.R(R), .C(C), .RB(RB), .W(W), .F(F), .T(T), .SAT(SAT)) dut (
        .clk(clk),
        .rst(stim_i[STIM_W-1]), .in_valid(stim_i[STIM_W-2]), .in_bank(stim_i[STIM_W-3]),
        .in_op(in_op), .in_code(in_code),
        .wr_en(stim_i[C*W+RB+1]), .wr_row(stim_i[C*W+1 +: RB]), .wr_bank(stim_i[C*W]),
        .wr_w(wr_w),
        .tok_valid(tv), .tok_code(tcode), .ps_valid(pv), .ps_val(ps), .tap_ovf(), .ps_out());
endmodule
