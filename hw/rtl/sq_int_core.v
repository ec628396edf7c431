// sq_int_core: the integer-multiplier PE of the baseline array
// (sq_array_ws MULT = 1): psum_out = fit(psum_in + w * a), a the A-bit
// integer s = SQ value * 2^F, so w * a is exactly sq_pe_core's product when
// pe_frac_bits >= the universal set's 10 fractional bits. Same T-bit fit,
// overflow flag and saturate/wrap as sq_pe_core (sq_fit).
`default_nettype none
module sq_int_core #(
    parameter integer W   = 5,
    parameter integer A   = 12,
    parameter integer T   = 24,
    parameter integer SAT = 1
) (
    input  wire signed [W-1:0] w,
    input  wire signed [A-1:0] a,
    input  wire signed [T-1:0] psum_in,
    output wire signed [T-1:0] psum_out,
    output wire                ovf
);
    localparam integer PW = W + A;                 // exact product
    localparam integer SW = (T > PW ? T : PW) + 1; // accumulate without loss
    wire signed [PW-1:0] prod = {{A{w[W-1]}}, w} * {{W{a[A-1]}}, a};
    wire signed [SW-1:0] sum  = {{(SW-T){psum_in[T-1]}}, psum_in} + {{(SW-PW){prod[PW-1]}}, prod};
    sq_fit #(.IW(SW), .OW(T), .SAT(SAT)) fit (.v(sum), .q(psum_out), .ovf(ovf));
endmodule
`default_nettype wire
