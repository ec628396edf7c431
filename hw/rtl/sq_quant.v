// sq_quant: the threshold quantizer and per-channel code LUT (DATAPATH.md
// §3.2, hw/SPEC.md "Quantizer"). index = #{j : thr_j < (x - mu) * 2^(F+1)}
// with thr_j = t_j * M^ precomputed once per channel and image (t_j: the
// midpoints of the channel's sorted points in units of 2^-(F+1)); ties go to
// the lower index. Unused thresholds are padded with the largest value, so
// they never count. code = lut[index]. Outputs registered (latency 1).
`default_nettype none
module sq_quant #(
    parameter integer A  = 24,  // activation bits (signed)
    parameter integer F  = 10,  // exact fractional bits of the SQ values
    parameter integer B  = 4,   // index bits: 2^B levels, 2^B - 1 thresholds
    parameter integer CW = 9    // SQ code bits
) (
    input  wire                               clk,
    input  wire signed [A-1:0]                x,
    input  wire signed [A:0]                  mu,   // mu^
    input  wire [((1<<B)-1)*(A+F+3)-1:0]      thr,  // thr_j at [j*TW +: TW], signed
    input  wire [(1<<B)*CW-1:0]               lut,  // code of index j at [j*CW +: CW]
    output reg  [B-1:0]                       index,
    output reg  [CW-1:0]                      code
);
    localparam integer NT = (1 << B) - 1;
    localparam integer TW = A + F + 3;   // holds (x - mu) * 2^(F+1) and t * M^

    wire signed [A+1:0]  d  = {{2{x[A-1]}}, x} - {mu[A], mu};
    wire signed [TW-1:0] dx = {{(F+1){d[A+1]}}, d};
    wire signed [TW-1:0] v  = dx <<< (F + 1);

    // one comparator per threshold; the thermometer count is the index
    reg [B-1:0] cnt;
    integer j;
    always @* begin
        cnt = {B{1'b0}};
        for (j = 0; j < NT; j = j + 1)
            if ($signed(thr[j*TW +: TW]) < v) cnt = cnt + 1'b1;
    end

    always @(posedge clk) begin
        index <= cnt;
        code  <= lut[cnt*CW +: CW];
    end
endmodule
`default_nettype wire
