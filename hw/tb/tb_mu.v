// Replays sqsim mu-term vectors (stim: {term_in, mu, sw, acc}; expect:
// {term_out, acc_out, ovf}) through sq_mu, one per cycle.
`timescale 1ns/1ps
module tb_mu;
    parameter integer MW = 50, A1 = 25, SWB = 9, F = 10, D = 48, SAT = 1;
    parameter integer NVEC = 1, STIM_W = 132, EXP_W = 99;
    localparam integer STIM_CALC = MW + A1 + SWB + D;
    localparam integer EXP_CALC  = MW + D + 1;

    wire signed [MW-1:0] term_out;
    wire signed [D-1:0]  acc_out;
    wire                 ovf;
    wire [EXP_W-1:0] got = {term_out, acc_out, ovf};

    `include "tb_common.vh"

    sq_mu #(.MW(MW), .A1(A1), .SWB(SWB), .F(F), .D(D), .SAT(SAT)) dut (
        .clk(clk),
        .term_in(stim_i[STIM_W-1 -: MW]),
        .mu(stim_i[D+SWB+A1-1 -: A1]),
        .sw(stim_i[D+SWB-1 -: SWB]),
        .acc(stim_i[D-1:0]),
        .term_out(term_out), .acc_out(acc_out), .ovf(ovf));
endmodule
