// Replays sqsim threshold-generator vectors (stim: {t, m, e}; expect: {thr})
// through sq_thresh, one per cycle.
`timescale 1ns/1ps
module tb_thresh;
    parameter integer TB = 12, XMB = 8, EW = 6, TW = 37;
    parameter integer NVEC = 1, STIM_W = 26, EXP_W = 37;
    localparam integer STIM_CALC = TB + XMB + EW;
    localparam integer EXP_CALC  = TW;

    wire signed [TW-1:0] thr;
    wire [EXP_W-1:0] got = thr;

    `include "tb_common.vh"

    sq_thresh #(.TB(TB), .XMB(XMB), .EW(EW), .TW(TW)) dut (
        .clk(clk),
        .t(stim_i[STIM_W-1 -: TB]),
        .m(stim_i[EW+XMB-1 -: XMB]),
        .e(stim_i[EW-1:0]),
        .thr(thr));
endmodule
