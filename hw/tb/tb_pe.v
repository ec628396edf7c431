// Replays sqsim PE vectors (stim: {w, code, psum_in}; expect: {shift1, en1,
// ..., shift4, en4, prod, psum_out, ovf}) through sq_pe, one per cycle.
`timescale 1ns/1ps
module tb_pe;
    parameter integer W = 5, F = 10, T = 24, SAT = 1;
    parameter integer NVEC = 1, STIM_W = 38, EXP_W = 61;
    localparam integer STIM_CALC = W + 9 + T;
    localparam integer EXP_CALC  = 4 * 5 + (W + F + 1) + T + 1;

    wire [15:0]          shift;
    wire [3:0]           en;
    wire signed [W+F:0]  prod;
    wire signed [T-1:0]  psum_out;
    wire                 ovf;
    wire [EXP_W-1:0] got = {shift[15:12], en[3], shift[11:8], en[2], shift[7:4], en[1],
                            shift[3:0], en[0], prod, psum_out, ovf};

    `include "tb_common.vh"

    sq_pe #(.W(W), .F(F), .T(T), .SAT(SAT)) dut (
        .clk(clk), .w(stim_i[STIM_W-1 -: W]), .code(stim_i[T+8 -: 9]), .psum_in(stim_i[T-1:0]),
        .shift(shift), .en(en), .prod(prod), .psum_out(psum_out), .ovf(ovf));
endmodule
