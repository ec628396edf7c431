// sq_thresh: the threshold generator (DATAPATH.md §3.1, hw/SPEC.md
// "Activations" step 4): per image and input channel each midpoint t_j of
// the channel's point set (units 2^-(F+1), TB bits signed) is scaled by the
// stats unit's M^ = m * 2^e into the comparator value thr_j = t_j * M^ that
// sq_quant loads. One TB x XMB multiply and a shift; TW = act_bits + F + 3
// holds every product a validated config makes (the generator refuses
// others). Registered.
`default_nettype none
module sq_thresh #(
    parameter integer TB  = 12,  // midpoint bits (signed): F + 2
    parameter integer XMB = 8,   // M^ mantissa bits (unsigned)
    parameter integer EW  = 6,   // exponent bits
    parameter integer TW  = 37   // threshold bits (signed)
) (
    input  wire                  clk,
    input  wire signed [TB-1:0]  t,
    input  wire        [XMB-1:0] m,
    input  wire        [EW-1:0]  e,
    output reg  signed [TW-1:0]  thr
);
    localparam integer PW = TB + XMB + 1;   // t * m, exact
    wire signed [PW-1:0] tx = {{(PW-TB){t[TB-1]}}, t};
    wire signed [PW-1:0] mx = {{(PW-XMB){1'b0}}, m};
    wire signed [PW-1:0] tm = tx * mx;
    // the product fits TW bits after the shift (checked by the generator);
    // the bits shifted above TW are copies of the sign
    wire signed [TW-1:0] tm_x = {{(TW-PW){tm[PW-1]}}, tm};
    always @(posedge clk) thr <= tm_x <<< e;
endmodule
`default_nettype wire
