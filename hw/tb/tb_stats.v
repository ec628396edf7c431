// Replays sqsim stats-pass vectors (stim: {clr, x}; expect: {sum, lo, hi})
// through sq_stats_acc, one per cycle.
`timescale 1ns/1ps
module tb_stats;
    parameter integer A = 24, NB = 24;
    parameter integer NVEC = 1, STIM_W = 25, EXP_W = 96;
    localparam integer STIM_CALC = 1 + A;
    localparam integer EXP_CALC  = A + NB + 2 * A;

    wire signed [A+NB-1:0] sum;
    wire signed [A-1:0]    lo, hi;
    wire [EXP_W-1:0] got = {sum, lo, hi};

    `include "tb_common.vh"

    sq_stats_acc #(.A(A), .NB(NB)) dut (
        .clk(clk), .clr(stim_i[A]), .x(stim_i[A-1:0]),
        .sum(sum), .lo(lo), .hi(hi));
endmodule
