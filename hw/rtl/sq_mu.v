// sq_mu: one step of a mu-table entry and the D3 add (hw/SPEC.md, "Products
// and accumulation"). Set-up builds each entry (output channel, row mask,
// column mask) over the input channels as
//   term_out = term_in + (mu^_c * sw_c) << F,  sw_c = sum of the weights of
//   channel c at the taps the mask keeps (inside the image);
// after the last channel the accumulator takes acc_out = fit_D(acc + term)
// (D3). MW bits hold every partial entry (sqsim's mu_term_bits). ovf flags
// the D3 add leaving the accumulator; it saturates or wraps (SAT). The
// entry itself never overflows (MW is the static bound). Registered.
`default_nettype none
module sq_mu #(
    parameter integer MW  = 50,  // mu-table entry bits (signed)
    parameter integer A1  = 25,  // mu^ bits (signed): activation bits + 1
    parameter integer SWB = 9,   // weight-sum bits (signed)
    parameter integer F   = 10,  // pe_frac_bits
    parameter integer D   = 48,  // accumulator bits (signed)
    parameter integer SAT = 1
) (
    input  wire                  clk,
    input  wire signed [MW-1:0]  term_in,
    input  wire signed [A1-1:0]  mu,
    input  wire signed [SWB-1:0] sw,
    input  wire signed [D-1:0]   acc,
    output reg  signed [MW-1:0]  term_out,
    output reg  signed [D-1:0]   acc_out,
    output reg                   ovf
);
    localparam integer PW = A1 + SWB;                 // mu^ * sw, exact
    localparam integer SW2 = (MW > D ? MW : D) + 1;   // D3 sum

    wire signed [PW-1:0] mu_x = {{SWB{mu[A1-1]}}, mu};
    wire signed [PW-1:0] sw_x = {{A1{sw[SWB-1]}}, sw};
    wire signed [PW-1:0] ms   = mu_x * sw_x;
    wire signed [MW-1:0] ms_f = {{(MW-PW-F){ms[PW-1]}}, ms, {F{1'b0}}};
    wire signed [MW-1:0] term = term_in + ms_f;

    wire signed [SW2-1:0] sum = {{(SW2-D){acc[D-1]}}, acc} + {{(SW2-MW){term[MW-1]}}, term};
    wire                ovf_c;
    wire signed [D-1:0] fit_c;
    sq_fit #(.IW(SW2), .OW(D), .SAT(SAT)) fit (.v(sum), .q(fit_c), .ovf(ovf_c));

    always @(posedge clk) begin
        term_out <= term;
        acc_out  <= fit_c;
        ovf      <= ovf_c;
    end
endmodule
`default_nettype wire
