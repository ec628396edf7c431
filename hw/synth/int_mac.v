// int_mac: the conventional baseline for the area sign-off: a W x A signed
// integer multiplier and the same T-bit accumulate, overflow flag and
// saturate/wrap as sq_pe, outputs registered. With A = F + 2 = 12 it computes
// exactly sq_pe's product (the SQ value as a 12-bit integer s = value * 2^10).
`default_nettype none
module int_mac #(
    parameter integer W   = 5,
    parameter integer A   = 12,
    parameter integer PW  = 16,   // product register bits (W + A when exact)
    parameter integer T   = 24,
    parameter integer SAT = 1,
    parameter integer ACC = 1     // 0: product register only (no accumulator)
) (
    input  wire                 clk,
    input  wire signed [W-1:0]  w,
    input  wire signed [A-1:0]  a,
    input  wire signed [T-1:0]  psum_in,
    output reg  signed [PW-1:0] prod,
    output reg  signed [T-1:0]  psum_out,
    output reg                  ovf
);
    localparam integer SW = (T > PW ? T : PW) + 1;
    wire signed [W+A-1:0] wx = {{A{w[W-1]}}, w};
    wire signed [W+A-1:0] ax = {{W{a[A-1]}}, a};
    // PW may drop the top product bit: |w * a| fits W + A - 1 bits except for
    // (-2^(W-1)) * (-2^(A-1)), which the SQ values (|s| <= 2^10) never reach
    /* verilator lint_off UNUSEDSIGNAL */
    wire signed [W+A-1:0] full = wx * ax;
    /* verilator lint_on UNUSEDSIGNAL */
    wire signed [PW-1:0]  prod_c = full[PW-1:0];
    wire signed [SW-1:0]  sum = {{(SW-T){psum_in[T-1]}}, psum_in} + {{(SW-PW){prod_c[PW-1]}}, prod_c};
    wire ovf_c = ~((&sum[SW-1:T-1]) | ~(|sum[SW-1:T-1]));
    wire signed [T-1:0] sat_c = sum[SW-1] ? {1'b1, {(T-1){1'b0}}} : {1'b0, {(T-1){1'b1}}};
    always @(posedge clk) prod <= prod_c;
    generate
        if (ACC != 0) begin : g_acc
            always @(posedge clk) begin
                psum_out <= (ovf_c && SAT != 0) ? sat_c : sum[T-1:0];
                ovf      <= ovf_c;
            end
        end else begin : g_prod
            always @* begin
                psum_out = {T{1'b0}};
                ovf      = 1'b0;
            end
        end
    endgenerate
endmodule
`default_nettype wire
