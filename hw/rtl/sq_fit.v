// sq_fit: writing a value into a register (hw/SPEC.md, "Every fit"; sqsim's
// Reg::fit): an IW-bit signed value into OW bits. Out of range raises ovf
// and saturates to the nearer end (SAT=1) or wraps, keeping the low OW
// bits (SAT=0). Combinational; every unit's registers go through it.
`default_nettype none
module sq_fit #(
    parameter integer IW  = 25,
    parameter integer OW  = 24,
    parameter integer SAT = 1
) (
    input  wire signed [IW-1:0] v,
    output wire signed [OW-1:0] q,
    output wire                 ovf
);
    assign ovf = ~((&v[IW-1:OW-1]) | ~(|v[IW-1:OW-1]));
    wire signed [OW-1:0] sat = v[IW-1] ? {1'b1, {(OW-1){1'b0}}} : {1'b0, {(OW-1){1'b1}}};
    assign q = (ovf && SAT != 0) ? sat : v[OW-1:0];
endmodule
`default_nettype wire
