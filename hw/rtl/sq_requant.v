// sq_requant: output requantization D4 (hw/SPEC.md, "Products and
// accumulation"): y = fit_A(round(acc * mult / 2^shift) + bias). The
// rounding adds half and shifts arithmetically (ties toward +inf); a
// shift <= 0 shifts left (down to -L); a shift past the product gives 0.
// mult is the channel's unsigned MB-bit Delta mantissa, shift = Delta's
// shift + pe_frac_bits, bias is in the A-bit activation format. Every
// overflow raises ovf and saturates or wraps (SAT). Outputs registered.
`default_nettype none
module sq_requant #(
    parameter integer D   = 48,  // accumulator bits (signed)
    parameter integer MB  = 16,  // Delta mantissa bits (unsigned)
    parameter integer SW  = 8,   // shift field bits (signed)
    parameter integer L   = 16,  // largest left shift supported
    parameter integer A   = 24,  // activation bits (signed); bias has A bits
    parameter integer SAT = 1
) (
    input  wire                 clk,
    input  wire signed [D-1:0]  acc,
    input  wire        [MB-1:0] mult,
    input  wire signed [SW-1:0] shift,
    input  wire signed [A-1:0]  bias,
    output reg  signed [A-1:0]  y,
    output reg                  ovf
);
    // |acc * mult| < 2^(D+MB-1); shifted left by <= L and with half added
    // it stays below 2^(IW-2), so IW bits hold every step exactly.
    localparam integer IW = D + MB + L + 2;
    localparam integer YW = IW + 1;

    wire signed [IW-1:0] acc_x  = {{(IW-D){acc[D-1]}}, acc};
    wire signed [IW-1:0] mult_x = {{(IW-MB){1'b0}}, mult};
    wire signed [IW-1:0] prod   = acc_x * mult_x;

    wire                 right  = !shift[SW-1] && (shift != {SW{1'b0}});
    wire        [SW-1:0] rs     = shift;                   // used when right
    wire        [SW-1:0] ls     = {SW{1'b0}} - shift;      // used when shift <= 0
    // 2^(shift-1) only matters below IW-1; at shift >= IW-1 the result is 0
    wire                 past   = right && ({{(32-SW){1'b0}}, rs} >= IW - 1);
    wire signed [IW-1:0] half   = {{(IW-1){1'b0}}, 1'b1} << (rs - 1'b1);
    wire signed [IW-1:0] rnd    = (prod + half) >>> rs;
    wire signed [IW-1:0] lft    = prod <<< ls;
    wire signed [IW-1:0] scaled = past ? {IW{1'b0}} : (right ? rnd : lft);

    wire signed [YW-1:0] sum    = {scaled[IW-1], scaled} + {{(YW-A){bias[A-1]}}, bias};
    wire                ovf_c;
    wire signed [A-1:0] fit_c;
    sq_fit #(.IW(YW), .OW(A), .SAT(SAT)) fit (.v(sum), .q(fit_c), .ovf(ovf_c));

    always @(posedge clk) begin
        y   <= fit_c;
        ovf <= ovf_c;
    end
endmodule
`default_nettype wire
