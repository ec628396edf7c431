// Synthesis wrapper: sq_pe without its debug outputs (decoded shifts and
// enables), so it exposes the same ports as int_mac (prod, psum_out, ovf).
// ACC = 0 leaves the accumulator unconnected (synthesis removes it): the
// product logic alone.
`default_nettype none
module pe_area_top #(
    parameter integer W = 5, F = 10, T = 24, SAT = 1, ACC = 1
) (
    input  wire                clk,
    input  wire signed [W-1:0] w,
    input  wire        [8:0]   code,
    input  wire signed [T-1:0] psum_in,
    output wire signed [W+F:0] prod,
    output wire signed [T-1:0] psum_out,
    output wire                ovf
);
    /* verilator lint_off PINCONNECTEMPTY */
    generate
        if (ACC != 0) begin : g_acc
            sq_pe #(.W(W), .F(F), .T(T), .SAT(SAT)) pe (
                .clk(clk), .w(w), .code(code), .psum_in(psum_in),
                .shift(), .en(), .prod(prod), .psum_out(psum_out), .ovf(ovf));
        end else begin : g_prod
            sq_pe #(.W(W), .F(F), .T(T), .SAT(SAT)) pe (
                .clk(clk), .w(w), .code(code), .psum_in({T{1'b0}}),
                .shift(), .en(), .prod(prod), .psum_out(), .ovf());
            assign psum_out = {T{1'b0}};
            assign ovf = 1'b0;
        end
    endgenerate
    /* verilator lint_on PINCONNECTEMPTY */
endmodule
`default_nettype wire
