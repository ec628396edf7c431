// sq_pe_core: the combinational datapath of the DFSQ shift-add PE (see
// sq_pe.v for the function); shared by sq_pe and the array tile.
`default_nettype none
module sq_pe_core #(
    parameter integer W   = 5,   // signed weight bits
    parameter integer F   = 10,  // product fractional bits (pe_frac_bits)
    parameter integer T   = 24,  // tap-sum register bits (signed)
    parameter integer SAT = 1    // 1: saturate, 0: wrap (both flag ovf)
) (
    input  wire signed [W-1:0] w,
    input  wire        [8:0]   code,
    input  wire signed [T-1:0] psum_in,
    output wire        [15:0]  shift,    // {shift1, shift2, shift3, shift4}, 0 when off
    output wire        [3:0]   en,       // {en1, en2, en3, en4}
    output wire signed [W+F:0] prod,     // units of 2^-F
    output wire signed [T-1:0] psum_out,
    output wire                ovf
);
    localparam integer PW = W + F + 1;             // |prod| <= 2^(W-1+F)
    localparam integer SW = (T > PW ? T : PW) + 1; // accumulate without loss

    wire signed [PW-1:0] wext = {{(PW-W){w[W-1]}}, w};
    wire signed [PW-1:0] wf   = wext <<< F;         // w * 2^F, exact

    wire signed [PW-1:0] term [0:3];
    wire        [15:0]   shift_c;
    wire        [3:0]    en_c;
    genvar i;
    generate
        for (i = 0; i < 4; i = i + 1) begin : g_word
            // word number i+1: shifts 2, i+3, i+7
            localparam [3:0] S0 = 4'd2;
            localparam [3:0] S1 = i + 3;
            localparam [3:0] S2 = i + 7;
            wire [1:0] sel = code[7-2*i -: 2];
            reg signed [PW-1:0] t;
            always @* begin
                case (sel)
                    2'd0:    t = wf >>> S0;
                    2'd1:    t = wf >>> S1;
                    2'd2:    t = wf >>> S2;
                    default: t = {PW{1'b0}};
                endcase
            end
            assign term[i] = t;
            assign shift_c[15-4*i -: 4] = (sel == 2'd0) ? S0 : (sel == 2'd1) ? S1 : (sel == 2'd2) ? S2 : 4'd0;
            assign en_c[3-i] = (sel != 2'd3);
        end
    endgenerate

    wire signed [PW-1:0] mag    = term[0] + term[1] + term[2] + term[3];
    wire signed [PW-1:0] prod_c = code[8] ? -mag : mag;
    wire signed [SW-1:0] sum    = {{(SW-T){psum_in[T-1]}}, psum_in}
                                + {{(SW-PW){prod_c[PW-1]}}, prod_c};
    // in range iff every bit above T-1 equals the sign bit T-1
    wire                ovf_c;
    wire signed [T-1:0] fit_c;
    sq_fit #(.IW(SW), .OW(T), .SAT(SAT)) fit (.v(sum), .q(fit_c), .ovf(ovf_c));

    assign shift    = shift_c;
    assign en       = en_c;
    assign prod     = prod_c;
    assign psum_out = fit_c;
    assign ovf      = ovf_c;
endmodule
`default_nettype wire
