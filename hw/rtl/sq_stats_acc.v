// sq_stats_acc: the stats unit's streaming pass (DATAPATH.md §3.1, hw/SPEC.md
// "Activations"; sq_norm_enc.v is its end-of-channel encoder): one pass over a channel, one activation per cycle. clr on a
// channel's first sample restarts it: sum = x, lo = hi = x; otherwise
// sum += x, lo = min(lo, x), hi = max(hi, x). sum has A + NB bits, enough
// for 2^NB - 1 samples. Registered.
`default_nettype none
module sq_stats_acc #(
    parameter integer A  = 24,  // activation bits (signed)
    parameter integer NB = 24   // sample-count bits
) (
    input  wire                    clk,
    input  wire                    clr,
    input  wire signed [A-1:0]     x,
    output reg  signed [A+NB-1:0]  sum,
    output reg  signed [A-1:0]     lo,
    output reg  signed [A-1:0]     hi
);
    wire signed [A+NB-1:0] xs = {{NB{x[A-1]}}, x};
    always @(posedge clk) begin
        sum <= clr ? xs : sum + xs;
        lo  <= (clr || x < lo) ? x : lo;
        hi  <= (clr || x > hi) ? x : hi;
    end
endmodule
`default_nettype wire
