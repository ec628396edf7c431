// Replays sqsim stats-encoder vectors (stim: {sum, n, lo, hi, relu};
// expect: {mu_mant, m_mant, exp}) through sq_norm_enc, one per cycle.
`timescale 1ns/1ps
module tb_norm;
    parameter integer A = 24, NB = 24, MMB = 8, XMB = 8, EW = 6, FMT = 1;
    parameter integer NVEC = 1, STIM_W = 121, EXP_W = 22;
    localparam integer STIM_CALC = A + NB + NB + 2 * A + 1;
    localparam integer EXP_CALC  = MMB + XMB + EW;

    wire signed [MMB-1:0] mu_mant;
    wire        [XMB-1:0] m_mant;
    wire        [EW-1:0]  exp;
    wire [EXP_W-1:0] got = {mu_mant, m_mant, exp};

    `include "tb_common.vh"

    sq_norm_enc #(.A(A), .NB(NB), .MMB(MMB), .XMB(XMB), .EW(EW), .FMT(FMT)) dut (
        .clk(clk),
        .sum(stim_i[STIM_W-1 -: A+NB]),
        .n(stim_i[2*A+NB:2*A+1]),
        .lo(stim_i[2*A:A+1]),
        .hi(stim_i[A:1]),
        .relu(stim_i[0]),
        .mu_mant(mu_mant), .m_mant(m_mant), .exp(exp));
endmodule
