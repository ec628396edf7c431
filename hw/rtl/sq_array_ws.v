// sq_array_ws: a weight-stationary tile of the shift-add MAC array
// (DATAPATH.md §4, hw/ARRAY.md, src/cycle/ws.rs). PE (r, c) holds the weight
// of tap r of output channel c in two banks (the pass in flight and the next
// one). A token {valid, bank, op, code} is issued per cycle; row r receives
// it through r skew registers, then it moves one column right per cycle.
// Partial sums move one row down per cycle: PE (r, c) adds w * code (via
// sq_pe_core, tap-sum register fit) when op (tap inside the image), passes
// the sum through otherwise, and row R-1 hands P to the column's
// de-normalization unit (not part of this tile). Invalid slots hold zeros.
// A weight-row write port loads one row (all columns) of one bank per cycle.
// MULT = 1 builds the integer-multiplier baseline of the same array: the
// token carries the CW-bit integer s = SQ value * 2^F instead of the code and
// each PE multiplies (sq_int_core); same schedule, registers and outputs.
`default_nettype none
module sq_array_ws #(
    parameter integer R   = 9,   // rows: the k*k taps
    parameter integer C   = 4,   // columns: output channels
    parameter integer RB  = 4,   // bits of a row index
    parameter integer W   = 5,
    parameter integer F   = 10,
    parameter integer T   = 24,
    parameter integer SAT = 1,
    parameter integer MULT = 0,  // 0: shift-add PEs (9-bit SQ codes), 1: integer multipliers
    parameter integer CW  = 9    // operand bits: the SQ code (9), or s (F + 2) when MULT
) (
    input  wire             clk,
    input  wire             rst,       // synchronous: clears tokens and sums
    input  wire             in_valid,
    input  wire             in_bank,
    input  wire [R-1:0]     in_op,     // row r at bit r
    input  wire [R*CW-1:0]  in_code,   // row r at [r*CW +: CW]
    input  wire             wr_en,
    input  wire [RB-1:0]    wr_row,
    input  wire             wr_bank,
    input  wire [C*W-1:0]   wr_w,      // column c at [c*W +: W]
    output wire [R*C-1:0]   tok_valid, // PE (r, c) at index r*C + c
    output wire [R*C*CW-1:0] tok_code,
    output wire [R*C-1:0]   ps_valid,
    output wire [R*C*T-1:0] ps_val,
    output wire [R*C-1:0]   tap_ovf,   // PE (r, c)'s last write overflowed the tap-sum register
    output wire [C*T-1:0]   ps_out     // the bottom row's partial sums (= ps_val's last C; an own
                                       // port, so a consumer is not woken by every PE's write)
);
    localparam integer TK = CW + 3;    // token: {valid, bank, op, code[CW-1:0]}
    localparam integer TV = CW + 2, TB = CW + 1, TO = CW; // its valid, bank and op bits

    // every PE's token and partial-sum register as its own net (arrays, not
    // one wide vector: a simulator re-evaluates every reader of a vector when
    // any part of it changes, which made a 9x16 array quadratic in Icarus);
    // the last column's tokens leave the array (only their valid and code
    // bits are observed), hence the waiver
    /* verilator lint_off UNUSEDSIGNAL */
    wire [TK-1:0]       tok_n [0:R*C-1];
    /* verilator lint_on UNUSEDSIGNAL */
    wire signed [T-1:0] ps_n  [0:R*C-1];
    wire [TK-1:0]       edge_tok [0:R-1];  // token entering column 0 of each row

    genvar r, c;
    generate
        for (r = 0; r < R; r = r + 1) begin : g_row
            wire [TK-1:0] fed = {in_valid, in_bank, in_op[r], in_code[r*CW +: CW]};
            if (r == 0) begin : g_noskew
                assign edge_tok[0] = fed;
            end else begin : g_skew
                reg [TK-1:0] sk [0:r-1];
                integer s;
                always @(posedge clk) begin
                    if (rst) begin
                        for (s = 0; s < r; s = s + 1) sk[s] <= {TK{1'b0}};
                    end else begin
                        sk[0] <= fed;
                        for (s = 1; s < r; s = s + 1) sk[s] <= sk[s-1];
                    end
                end
                assign edge_tok[r] = sk[r-1];
            end
            for (c = 0; c < C; c = c + 1) begin : g_col
                localparam integer I = r * C + c;
                wire [TK-1:0] tin = (c == 0) ? edge_tok[r] : tok_n[(c == 0) ? I : I-1];
                wire signed [T-1:0] pin;
                if (r == 0) begin : g_top
                    assign pin = {T{1'b0}};
                end else begin : g_below
                    assign pin = ps_n[I-C];
                end
                reg signed [W-1:0] wb0, wb1;
                always @(posedge clk)
                    if (wr_en && wr_row == r) begin
                        if (wr_bank) wb1 <= wr_w[c*W +: W];
                        else         wb0 <= wr_w[c*W +: W];
                    end
                wire signed [T-1:0] psum_c;
                wire                ovf_c;
                wire signed [W-1:0] wsel = tin[TB] ? wb1 : wb0;
                if (MULT == 0) begin : g_sq
                    /* verilator lint_off PINCONNECTEMPTY */
                    sq_pe_core #(.W(W), .F(F), .T(T), .SAT(SAT)) pe (
                        .w(wsel), .code(tin[8:0]), .psum_in(pin),
                        .shift(), .en(), .prod(), .psum_out(psum_c), .ovf(ovf_c));
                    /* verilator lint_on PINCONNECTEMPTY */
                end else begin : g_int
                    sq_int_core #(.W(W), .A(CW), .T(T), .SAT(SAT)) pe (
                        .w(wsel), .a(tin[CW-1:0]), .psum_in(pin), .psum_out(psum_c), .ovf(ovf_c));
                end
                reg [TK-1:0]        tok;
                reg                 pv;
                reg signed [T-1:0]  ps;
                reg                 ov;
                always @(posedge clk) begin
                    if (rst) begin
                        tok <= {TK{1'b0}};
                        pv  <= 1'b0;
                        ps  <= {T{1'b0}};
                        ov  <= 1'b0;
                    end else begin
                        tok <= tin;
                        pv  <= tin[TV];
                        ps  <= !tin[TV] ? {T{1'b0}} : (tin[TO] ? psum_c : pin);
                        ov  <= tin[TV] && tin[TO] && ovf_c;
                    end
                end
                assign tap_ovf[I] = ov;
                // named taps of the token register: the signals `sqsim
                // vectors --vcd` writes for the cycle model's PE (r, c)
                wire                tv    = tok[TV];
                wire [CW-1:0]       tcode = tok[CW-1:0];
                assign tok_n[I]              = tok;
                assign ps_n[I]               = ps;
                assign tok_valid[I]        = tv;
                assign tok_code[I*CW +: CW] = tcode;
                assign ps_valid[I]         = pv;
                assign ps_val[I*T +: T]    = ps;
                if (r == R - 1) begin : g_out
                    assign ps_out[c*T +: T] = ps;
                end
            end
        end
    endgenerate
endmodule
`default_nettype wire
