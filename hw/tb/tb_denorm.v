// Replays sqsim de-normalization vectors (stim: {p, m, e, acc_in}; expect:
// {acc_out, ovf}) through sq_denorm, one per cycle.
`timescale 1ns/1ps
module tb_denorm;
    parameter integer T = 24, MB = 8, EW = 5, D = 48, SAT = 1;
    parameter integer NVEC = 1, STIM_W = 85, EXP_W = 49;
    localparam integer STIM_CALC = T + MB + EW + D;
    localparam integer EXP_CALC  = D + 1;

    wire signed [D-1:0] acc_out;
    wire                ovf;
    wire [EXP_W-1:0] got = {acc_out, ovf};

    `include "tb_common.vh"

    sq_denorm #(.T(T), .MB(MB), .EW(EW), .D(D), .SAT(SAT)) dut (
        .clk(clk),
        .p(stim_i[STIM_W-1 -: T]),
        .m(stim_i[D+EW+MB-1 -: MB]),
        .e(stim_i[D+EW-1 -: EW]),
        .acc_in(stim_i[D-1:0]),
        .acc_out(acc_out), .ovf(ovf));
endmodule
