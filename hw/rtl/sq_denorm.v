// sq_denorm: the de-normalization step under each array column (DATAPATH.md
// §3.5, hw/SPEC.md): acc_out = fit_D(acc_in + (m * P) << e), M^ = m * 2^e with
// m an unsigned MB-bit mantissa. One T x MB multiplier, one shifter, one
// D-bit accumulate; every overflow raises ovf and saturates or wraps (SAT).
// Outputs registered (latency 1).
`default_nettype none
module sq_denorm #(
    parameter integer T   = 24,  // tap-sum P bits (signed)
    parameter integer MB  = 8,   // M^ mantissa bits (unsigned)
    parameter integer EW  = 5,   // exponent bits
    parameter integer D   = 48,  // accumulator bits (signed)
    parameter integer SAT = 1
) (
    input  wire                clk,
    input  wire signed [T-1:0] p,
    input  wire        [MB-1:0] m,
    input  wire        [EW-1:0] e,
    input  wire signed [D-1:0] acc_in,
    output reg  signed [D-1:0] acc_out,
    output reg                 ovf
);
    localparam integer PW = T + MB + 1;              // m * P, exact
    localparam integer XW = PW + (1 << EW) - 1;      // (m * P) << e, exact
    localparam integer SW = (XW > D ? XW : D) + 1;

    wire signed [MB:0]   ms  = {1'b0, m};
    wire signed [PW-1:0] pe  = {{(PW-T){p[T-1]}}, p};
    wire signed [PW-1:0] mse = {{(PW-MB-1){1'b0}}, ms};
    wire signed [PW-1:0] pm  = pe * mse;
    wire signed [XW-1:0] pmx = {{(XW-PW){pm[PW-1]}}, pm};
    wire signed [XW-1:0] sh  = pmx <<< e;
    wire signed [SW-1:0] sum = {{(SW-D){acc_in[D-1]}}, acc_in} + {{(SW-XW){sh[XW-1]}}, sh};
    wire                ovf_c;
    wire signed [D-1:0] fit_c;
    sq_fit #(.IW(SW), .OW(D), .SAT(SAT)) fit (.v(sum), .q(fit_c), .ovf(ovf_c));

    always @(posedge clk) begin
        acc_out <= fit_c;
        ovf     <= ovf_c;
    end
endmodule
`default_nettype wire
