// Replays sqsim line-buffer vectors (stim: {start, step, code}; expect:
// {valid, pix, op, code(KK-1) .. code0}) through sq_linebuf, one per cycle.
`timescale 1ns/1ps
module tb_linebuf;
    parameter integer CW = 9, K = 3, H = 4, WI = 4;
    parameter integer NVEC = 1, STIM_W = 11, EXP_W = 123;
    localparam integer STIM_CALC = 2 + CW;
    localparam integer EXP_CALC  = 1 + 32 + K * K + K * K * CW;

    wire             valid;
    wire [31:0]      pix;
    wire [K*K-1:0]   op;
    wire [K*K*CW-1:0] code;
    wire [EXP_W-1:0] got = {valid, pix, op, code};

    `include "tb_common.vh"

    sq_linebuf #(.CW(CW), .K(K), .H(H), .WI(WI)) dut (
        .clk(clk), .start(stim_i[STIM_W-1]), .step(stim_i[STIM_W-2]), .in_code(stim_i[CW-1:0]),
        .out_valid(valid), .out_pix(pix), .out_op(op), .out_code(code));
endmodule
