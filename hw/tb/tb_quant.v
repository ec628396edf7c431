// Replays sqsim quantizer vectors (stim: {x, mu, thr[NT-1..0], lut[NL-1..0]};
// expect: {index, code}) through sq_quant, one per cycle.
`timescale 1ns/1ps
module tb_quant;
    parameter integer A = 24, F = 10, B = 4, CW = 9;
    parameter integer NVEC = 1, STIM_W = 748, EXP_W = 13;
    localparam integer NL = 1 << B, NT = NL - 1, TW = A + F + 3;
    localparam integer STIM_CALC = A + (A + 1) + NT * TW + NL * CW;
    localparam integer EXP_CALC  = B + CW;

    wire [B-1:0]  index;
    wire [CW-1:0] code;
    wire [EXP_W-1:0] got = {index, code};

    `include "tb_common.vh"

    sq_quant #(.A(A), .F(F), .B(B), .CW(CW)) dut (
        .clk(clk),
        .x(stim_i[STIM_W-1 -: A]),
        .mu(stim_i[STIM_W-1-A -: A+1]),
        .thr(stim_i[NL*CW +: NT*TW]),
        .lut(stim_i[NL*CW-1:0]),
        .index(index), .code(code));
endmodule
