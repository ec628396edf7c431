// Replays sqsim requantization vectors (stim: {acc, mult, shift, bias};
// expect: {y, ovf}) through sq_requant, one per cycle.
`timescale 1ns/1ps
module tb_requant;
    parameter integer D = 48, MB = 16, SW = 8, L = 16, A = 24, SAT = 1;
    parameter integer NVEC = 1, STIM_W = 96, EXP_W = 25;
    localparam integer STIM_CALC = D + MB + SW + A;
    localparam integer EXP_CALC  = A + 1;

    wire signed [A-1:0] y;
    wire                ovf;
    wire [EXP_W-1:0] got = {y, ovf};

    `include "tb_common.vh"

    sq_requant #(.D(D), .MB(MB), .SW(SW), .L(L), .A(A), .SAT(SAT)) dut (
        .clk(clk),
        .acc(stim_i[STIM_W-1 -: D]),
        .mult(stim_i[A+SW+MB-1 -: MB]),
        .shift(stim_i[A+SW-1 -: SW]),
        .bias(stim_i[A-1:0]),
        .y(y), .ovf(ovf));
endmodule
