// sq_layer: a whole-layer DFSQ engine (hw/SPEC.md, hw/ARRAY.md) built from
// the unit RTL: one K x K (K = 1 or 3) convolution of CIN x H x WI signed
// A-bit activations into COUT x H x WI outputs, bit-exact with sqsim's
// functional model (HwLayer::run_reference), on the weight-stationary array
// sq_array_ws (R rows >= K*K, C columns).
//
// Load interface (before start; one word per cycle, ld_en):
//   sel 0  x      addr (c*H + y)*WI + x      data[A-1:0]      input activation
//   sel 1  w      addr o*CIN + c             data[KK*W-1:0]   tap t at [t*W +: W]
//   sel 2  t_j    addr c*NT + j              data[TB-1:0]     midpoint j of channel c's points
//   sel 3  lut    addr c*NL + j              data[CW-1:0]     SQ code of point j
//   sel 4  nthr   addr c                     data[B-1:0]      real midpoints (points - 1)
//   sel 5  mult   addr o                     data[MB-1:0]     Delta mantissa
//   sel 6  shift  addr o                     data[SW-1:0]     Delta shift + pe_frac_bits
//   sel 7  bias   addr o                     data[A-1:0]      bias, activation format
// After start the engine runs four phases, then raises done:
//   STATS  per channel: HW samples through sq_stats_acc, then sq_norm_enc
//          (mu^, M^) into the norm store                      CIN*(HW + 2) cycles
//   QUANT  per channel: NL cycles loading the comparator bank (sq_thresh:
//          t_j * M^, unused thresholds at the largest value; the LUT),
//          then HW activations through sq_quant into the code store
//                                                             CIN*(NL + HW) cycles
//   MU     per output channel and border class (row/column masks; 16 for
//          K = 3, 1 for K = 1) the mu-table entry built over the input
//          channels with sq_mu                                COUT*NQ*CIN + 1 cycles
//   ARRAY  the cycle model's weight-stationary schedule (hw/ARRAY.md):
//          passes (group, channel) back to back, one pixel per cycle, the
//          loader writing the next pass's weight bank one row per LW
//          cycles as soon as the bank is free; per column the
//          de-normalization pipeline D1+D2 (sq_denorm on the bottom
//          PE's P, psum read-modify-write), D3 (sq_mu with the pixel's mu-table entry),
//          D4 (sq_requant) into the output store. cyc_array counts this
//          phase and equals the cycle model's standalone cycle count.
// Overflow counts: ovf_tap (PE tap-sum writes), ovf_acc (D2 and D3 adds),
// ovf_out (D4). The stores are behavioural arrays with several read
// ports; the window generator is two line buffers (sq_linebuf), each
// reading one code a cycle from the code store.
`default_nettype none
module sq_layer #(
    parameter integer A    = 24,  // activation bits
    parameter integer FQ   = 10,  // quantizer: the universal set's exact fractional bits
    parameter integer B    = 4,   // index bits
    parameter integer CW   = 9,   // SQ code bits (MULT: bits of s = SQ value * 2^F)
    parameter integer MULT = 0,   // 1: the integer-multiplier baseline (sq_array_ws MULT; the LUT holds s)
    parameter integer W    = 5,   // weight bits
    parameter integer F    = 10,  // pe_frac_bits
    parameter integer T    = 24,  // tap-sum bits
    parameter integer D    = 48,  // accumulator bits
    parameter integer MB   = 16,  // Delta mantissa bits
    parameter integer SW   = 8,   // requant shift bits
    parameter integer L    = 16,  // largest requant left shift
    parameter integer NB   = 24,  // stats count bits
    parameter integer MMB  = 8,   // mu^ mantissa bits
    parameter integer XMB  = 8,   // M^ mantissa bits
    parameter integer EW   = 6,   // norm exponent bits
    parameter integer FMT  = 1,   // [denorm] format: 0 full, 1 mantissa, 2 pow2
    parameter integer MW   = 50,  // mu-table entry bits
    parameter integer SWB  = 9,   // weight-sum bits
    parameter integer SAT  = 1,
    parameter integer RELU = 0,   // the input is post-ReLU (mu = 0)
    parameter integer K    = 3,
    parameter integer CIN  = 4,
    parameter integer COUT = 4,
    parameter integer H    = 4,
    parameter integer WI   = 4,
    parameter integer R    = 9,
    parameter integer C    = 4,
    parameter integer RB   = 4,   // bits of a row index
    parameter integer LW   = 1,   // weight-bus beats per PE row
    parameter integer DW   = 45,  // load data bits
    parameter integer AW   = 32   // load address bits
) (
    // addresses are 32-bit; a layer uses the low bits its stores need
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire              clk,
    input  wire              rst,
    input  wire              ld_en,
    input  wire [2:0]        ld_sel,
    input  wire [AW-1:0]     ld_addr,
    input  wire [DW-1:0]     ld_data,
    input  wire              start,
    output reg               done,
    input  wire [AW-1:0]     rd_addr,     // output (o*H + y)*WI + x
    output wire [A-1:0]      rd_data,
    output reg  [31:0]       ovf_tap,
    output reg  [31:0]       ovf_acc,
    output reg  [31:0]       ovf_out,
    output reg  [31:0]       cyc_stats,
    output reg  [31:0]       cyc_quant,
    output reg  [31:0]       cyc_mu,
    output reg  [31:0]       cyc_array
    /* verilator lint_on UNUSEDSIGNAL */
);
    localparam integer KK  = K * K;
    localparam integer HW  = H * WI;
    localparam integer NT  = (1 << B) - 1;
    localparam integer NL  = 1 << B;
    localparam integer TB  = FQ + 2;
    localparam integer TW  = A + FQ + 3;
    localparam integer NQ  = (K > 1) ? 16 : 1;
    localparam integer NG  = (COUT + C - 1) / C;
    localparam integer NP  = NG * CIN;
    localparam integer NRM = MMB + XMB + EW;
    localparam integer MDL = R + C;          // metadata delay line
    localparam integer MT  = 1 + 1 + 1 + 32 + 32 + 32;  // {valid, first, last, g, c, pix}

    // ---------------- stores (loaded, or written by the phases) ----------------
    reg signed [A-1:0]    xmem   [0:CIN*HW-1];
    reg [KK*W-1:0]        wmem   [0:COUT*CIN-1];
    reg signed [TB-1:0]   tmem   [0:CIN*NT-1];
    reg [CW-1:0]          lutmem [0:CIN*NL-1];
    reg [B-1:0]           nthr   [0:CIN-1];
    reg [MB-1:0]          multm  [0:COUT-1];
    reg signed [SW-1:0]   shiftm [0:COUT-1];
    reg signed [A-1:0]    biasm  [0:COUT-1];
    reg [NRM-1:0]         normm  [0:CIN-1];   // {mu_mant, m_mant, exp}
    reg [CW-1:0]          codem  [0:CIN*HW-1];
    reg signed [MW-1:0]   mutab  [0:COUT*NQ-1];
    reg signed [A-1:0]    omem   [0:COUT*HW-1];
    assign rd_data = omem[rd_addr];

    /* verilator lint_off UNUSEDSIGNAL */
    wire [DW-1:0] ldd = ld_data;  // each store takes its field's low bits
    /* verilator lint_on UNUSEDSIGNAL */
    always @(posedge clk)
        if (ld_en)
            case (ld_sel)
                3'd0: xmem[ld_addr]   <= ldd[A-1:0];
                3'd1: wmem[ld_addr]   <= ldd[KK*W-1:0];
                3'd2: tmem[ld_addr]   <= ldd[TB-1:0];
                3'd3: lutmem[ld_addr] <= ldd[CW-1:0];
                3'd4: nthr[ld_addr]   <= ldd[B-1:0];
                3'd5: multm[ld_addr]  <= ldd[MB-1:0];
                3'd6: shiftm[ld_addr] <= ldd[SW-1:0];
                default: biasm[ld_addr] <= ldd[A-1:0];
            endcase

    // norm fields of channel c, and mu^ = mu_mant << exp (A + 1 bits)
    /* verilator lint_off UNUSEDSIGNAL */
    function [MMB-1:0] nm_mu;  input [NRM-1:0] v; nm_mu = v[NRM-1 -: MMB]; endfunction
    function [XMB-1:0] nm_m;   input [NRM-1:0] v; nm_m  = v[EW +: XMB];    endfunction
    function [EW-1:0]  nm_e;   input [NRM-1:0] v; nm_e  = v[EW-1:0];       endfunction
    function signed [A:0] muhat;
        input [NRM-1:0] v;
        reg signed [A:0] mx;
        begin
            mx = {{(A+1-MMB){v[NRM-1]}}, v[NRM-1 -: MMB]};
            muhat = mx <<< v[EW-1:0];
        end
    endfunction
    /* verilator lint_on UNUSEDSIGNAL */

    // ---------------- phase control ----------------
    localparam [2:0] S_IDLE = 3'd0, S_STATS = 3'd1, S_QUANT = 3'd2, S_MU = 3'd3, S_ARRAY = 3'd4, S_DONE = 3'd5;
    reg [2:0]  ph;
    reg [31:0] pc, pp, pj;       // phase counters: channel, pixel, step
    reg [31:0] cyc;              // cycles in the current phase

    // ---------------- STATS ----------------
    wire signed [A-1:0]    st_x = xmem[pc*HW + pp];
    wire signed [A+NB-1:0] st_sum;
    wire signed [A-1:0]    st_lo, st_hi;
    sq_stats_acc #(.A(A), .NB(NB)) stats (.clk(clk), .clr(pp == 0), .x(st_x), .sum(st_sum), .lo(st_lo), .hi(st_hi));
    wire signed [MMB-1:0] en_mu;
    wire [XMB-1:0]        en_m;
    wire [EW-1:0]         en_e;
    localparam [31:0]     HW32 = HW;
    wire [NB-1:0]         hw_n = HW32[NB-1:0];
    sq_norm_enc #(.A(A), .NB(NB), .MMB(MMB), .XMB(XMB), .EW(EW), .FMT(FMT)) enc (
        .clk(clk), .sum(st_sum), .n(hw_n), .lo(st_lo), .hi(st_hi), .relu(RELU != 0),
        .mu_mant(en_mu), .m_mant(en_m), .exp(en_e));

    // ---------------- QUANT: comparator bank load, then quantize ----------------
    reg [NT*TW-1:0]  thr_r;
    reg [NL*CW-1:0]  lut_r;
    wire [NRM-1:0]   qn = normm[pc];
    wire signed [TW-1:0] th_o;
    sq_thresh #(.TB(TB), .XMB(XMB), .EW(EW), .TW(TW)) thg (
        .clk(clk), .t(tmem[pc*NT + (pj < NT ? pj : 0)]), .m(nm_m(qn)), .e(nm_e(qn)), .thr(th_o));
    /* verilator lint_off UNUSEDSIGNAL */
    wire [B-1:0] q_idx;     // the index itself is only a debug output here
    /* verilator lint_on UNUSEDSIGNAL */
    wire [CW-1:0] q_code;
    sq_quant #(.A(A), .F(FQ), .B(B), .CW(CW)) quant (
        .clk(clk), .x(xmem[pc*HW + pp]), .mu(muhat(qn)), .thr(thr_r), .lut(lut_r), .index(q_idx), .code(q_code));
    reg        q_wr;             // the quantizer's output of last cycle is to be stored
    /* verilator lint_off UNUSEDSIGNAL */
    reg [31:0] q_addr, m_addr;   // 32-bit store addresses
    /* verilator lint_on UNUSEDSIGNAL */

    // ---------------- MU table ----------------
    reg [31:0] mo, mq;           // output channel, border class
    // sum of channel c's weights of output o at the taps class q keeps
    /* verilator lint_off UNUSEDSIGNAL */
    function signed [SWB-1:0] wsum;
        input [KK*W-1:0] ws;
        input [31:0]     q;      // the class: bits 3..0
        integer ky, kx;
        reg signed [SWB-1:0] s;
        begin
            s = 0;
            for (ky = 0; ky < K; ky = ky + 1)
                for (kx = 0; kx < K; kx = kx + 1)
                    if (!(K > 1 && ((q[2] && ky == 0) || (q[3] && ky == K - 1) || (q[0] && kx == 0) || (q[1] && kx == K - 1))))
                        s = s + {{(SWB-W){ws[(ky*K+kx)*W + W-1]}}, ws[(ky*K+kx)*W +: W]};
            wsum = s;
        end
    endfunction
    /* verilator lint_on UNUSEDSIGNAL */
    // border class of pixel (y, x): {bottom, top, right, left} edge rows/columns outside
    function [31:0] pclass;
        input [31:0] pix;
        integer y, x;
        begin
            y = pix / WI;
            x = pix % WI;
            pclass = (K > 1) ? {28'd0, y == H - 1, y == 0, x == WI - 1, x == 0} : 32'd0;
        end
    endfunction
    wire signed [MW-1:0] mu_term;
    /* verilator lint_off UNUSEDSIGNAL */
    wire signed [D-1:0]  mu_acc_unused;
    wire                 mu_ovf_unused;
    /* verilator lint_on UNUSEDSIGNAL */
    sq_mu #(.MW(MW), .A1(A+1), .SWB(SWB), .F(F), .D(D), .SAT(SAT)) mut (
        .clk(clk), .term_in(pc == 0 ? {MW{1'b0}} : mu_term), .mu(muhat(normm[pc])),
        .sw(wsum(wmem[mo*CIN + pc], mq)), .acc({D{1'b0}}),
        .term_out(mu_term), .acc_out(mu_acc_unused), .ovf(mu_ovf_unused));
    reg        m_wr;

    // ---------------- ARRAY: issue, loader, array ----------------
    reg [31:0] ip, ipix, ig, ic;      // issue: pass, pixel, its group and channel
    reg [31:0] lp, lr, lg, lc, l0;    // loader: pass, row, group, channel, pass start cycle
    reg [31:0] last_iss [0:1];        // last issue cycle of the latest pass of each parity
    wire [1:0] lb_ready;              // the line buffer of each pass parity holds its next window
    wire       iss = (ph == S_ARRAY) && (ip < NP) && (lp > ip) && lb_ready[ip[0]];
    wire [31:0] f0  = (lp < 2) ? l0 + LW - 1
                    : ((l0 + LW - 1 > last_iss[lp[0]] + C - 1) ? l0 + LW - 1 : last_iss[lp[0]] + C - 1);
    wire       row0_ok = (lp < 2) || (ip >= lp - 1);  // pass lp-2 has issued its last pixel
    reg [31:0] due;                   // cycle of the next row write (rows >= 1)
    wire       ld_w = (ph == S_ARRAY) && (lp < NP) && (lr < KK) &&
                      ((lr == 0) ? (row0_ok && cyc >= f0) : (cyc >= due));

    // token: the K*K codes of pixel ipix of channel ic, from the line buffer
    // of the pass's parity (sq_linebuf). Buffer b streams pass q's channel
    // (q = b, b + 2, ...) from the code store in raster order, one code a
    // cycle: prefill steps until the buffer shows a valid window (pixel 0,
    // after its latency; passes 0 and 1 during MU, once the code store is
    // final; pass q + 2 while pass q + 1 issues), then one step per issued
    // pixel. The issue waits for a buffer that is not ready, which never
    // happens when H*WI exceeds the buffer's latency and MU lasts longer
    // than it (hw/ARRAY.md).
    wire          feed_ok = (ph == S_MU && !q_wr) || ph == S_ARRAY;
    wire [KK-1:0] lb_op   [0:1];
    wire [KK*CW-1:0] lb_code [0:1];
    genvar b;
    generate
        for (b = 0; b < 2; b = b + 1) begin : g_lb
            reg  [31:0] fq, fch, fn;     // pass fed, its channel, steps taken
            wire        mine = iss && ip == fq;
            wire        lv;              // the buffer shows a window of its plane
            wire        lstep = feed_ok && fq < NP && (fn == 0 || !lv || (mine && ipix != HW - 1));
            wire [31:0] ch1 = (fch == CIN - 1) ? 0 : fch + 1;
            always @(posedge clk)
                if (!feed_ok) begin
                    fq <= b; fch <= b % CIN; fn <= 0;
                end else if (mine && ipix == HW - 1) begin
                    fq <= fq + 2; fch <= (ch1 == CIN - 1) ? 0 : ch1 + 1; fn <= 0;
                end else if (lstep) fn <= fn + 1;
            /* verilator lint_off UNUSEDSIGNAL */
            wire [31:0] lpix;            // the window's pixel: ipix when ready
            /* verilator lint_on UNUSEDSIGNAL */
            sq_linebuf #(.CW(CW), .K(K), .H(H), .WI(WI)) linebuf (
                .clk(clk), .step(lstep), .start(fn == 0),
                .in_code((fn < HW) ? codem[fch*HW + fn] : {CW{1'b0}}),
                .out_valid(lv), .out_pix(lpix), .out_op(lb_op[b]), .out_code(lb_code[b]));
            // fn != 0: the plane has started (lv may still be the last pass's window)
            assign lb_ready[b] = feed_ok && fq < NP && fn != 0 && lv;
        end
    endgenerate
    reg [R-1:0]    in_op;            // rows KK .. R-1 idle
    reg [R*CW-1:0] in_code;
    always @* begin
        in_op = {R{1'b0}};
        in_code = {(R*CW){1'b0}};
        in_op[KK-1:0] = lb_op[ip[0]];
        in_code[KK*CW-1:0] = lb_code[ip[0]];
    end
    // weight row lr of pass (lg, lc) for every column (0 beyond COUT)
    reg [C*W-1:0] wr_w;
    integer cc;
    always @* begin
        wr_w = {(C*W){1'b0}};
        for (cc = 0; cc < C; cc = cc + 1)
            if (lg*C + cc < COUT && lr < KK)
                wr_w[cc*W +: W] = wmem[(lg*C + cc)*CIN + lc][lr*W +: W];
    end
    wire [R*C-1:0]   a_ov;
    // the token and valid outputs are observed by tb_array only; of the
    // partial sums only the bottom row's leave the array
    /* verilator lint_off UNUSEDSIGNAL */
    wire [R*C-1:0]   a_tv, a_pv;
    wire [R*C*CW-1:0] a_tc;
    wire [R*C*T-1:0] a_ps;
    wire [C*T-1:0]   a_out;
    /* verilator lint_on UNUSEDSIGNAL */
    sq_array_ws #(.R(R), .C(C), .RB(RB), .W(W), .F(F), .T(T), .SAT(SAT), .MULT(MULT), .CW(CW)) arr (
        .clk(clk), .rst(rst || ph != S_ARRAY), .in_valid(iss), .in_bank(ip[0]), .in_op(in_op), .in_code(in_code),
        .wr_en(ld_w), .wr_row(lr[RB-1:0]), .wr_bank(lp[0]), .wr_w(wr_w),
        .tok_valid(a_tv), .tok_code(a_tc), .ps_valid(a_pv), .ps_val(a_ps), .tap_ovf(a_ov), .ps_out(a_out));

    // metadata of issued tokens; md[k] holds the token issued k + 1 cycles ago,
    // which column c's bottom PE holds at k = R - 1 + c
    reg [MT-1:0] md [0:MDL-1];
    integer k;
    always @(posedge clk) begin
        md[0] <= {iss, ic == 0, ic == CIN - 1, ig, ic, ipix};
        for (k = 1; k < MDL; k = k + 1) md[k] <= md[k-1];
    end

    // per column: D1+D2 psum RMW, D3 mu term, D4 requantization
    wire [C-1:0]   c_dn_ovf, c_mu_ovf, c_rq_ovf, c_out;
    wire [C*A-1:0] c_y;
    wire [C*32-1:0] c_oaddr;
    genvar g;
    generate
        for (g = 0; g < C; g = g + 1) begin : g_col
            wire [MT-1:0] mb = md[R - 1 + g];
            // D1 + D2 in the cycle after the bottom PE's write: the term
            // (m^ P) << e and the psum read-modify-write, into sq_denorm's
            // register; then D3, D4 one cycle each, so an output is in D4's
            // register four cycles after its P's write (hw/ARRAY.md)
            wire [MT-1:0] m1 = (mb[MT-1] && mb[95:64] * C + g < COUT) ? mb : {MT{1'b0}};
            wire signed [T-1:0] p1 = a_out[g*T +: T];
            reg signed [D-1:0] pm [0:HW-1];
            wire [NRM-1:0] n1 = normm[m1[63:32]];
            wire signed [D-1:0] acc2;
            wire ovf2;
            sq_denorm #(.T(T), .MB(XMB), .EW(EW), .D(D), .SAT(SAT)) dn (
                .clk(clk), .p(p1), .m(nm_m(n1)), .e(nm_e(n1)), .acc_in(m1[MT-2] ? {D{1'b0}} : pm[m1[31:0]]),
                .acc_out(acc2), .ovf(ovf2));
            reg [MT-1:0] m2;
            always @(posedge clk) begin
                m2 <= m1;
                if (m2[MT-1] && !m2[MT-3]) pm[m2[31:0]] <= acc2;
            end
            // D3
            wire [31:0] o2 = m2[95:64] * C + g;
            wire signed [MW-1:0] ent = mutab[o2*NQ + pclass(m2[31:0])];
            wire signed [D-1:0] acc3;
            wire ovf3;
            /* verilator lint_off UNUSEDSIGNAL */
            wire signed [MW-1:0] t3_unused;
            /* verilator lint_on UNUSEDSIGNAL */
            sq_mu #(.MW(MW), .A1(A+1), .SWB(SWB), .F(F), .D(D), .SAT(SAT)) d3 (
                .clk(clk), .term_in(ent), .mu({(A+1){1'b0}}), .sw({SWB{1'b0}}), .acc(acc2),
                .term_out(t3_unused), .acc_out(acc3), .ovf(ovf3));
            reg [MT-1:0] m3;
            always @(posedge clk) m3 <= (m2[MT-1] && m2[MT-3]) ? m2 : {MT{1'b0}};
            // D4
            /* verilator lint_off UNUSEDSIGNAL */
            wire [31:0] o3 = m3[95:64] * C + g;
            /* verilator lint_on UNUSEDSIGNAL */
            wire signed [A-1:0] y4;
            wire ovf4;
            sq_requant #(.D(D), .MB(MB), .SW(SW), .L(L), .A(A), .SAT(SAT)) d4 (
                .clk(clk), .acc(acc3), .mult(multm[o3]), .shift(shiftm[o3]), .bias(biasm[o3]), .y(y4), .ovf(ovf4));
            reg [MT-1:0] m4;
            always @(posedge clk) m4 <= m3;
            assign c_dn_ovf[g] = m2[MT-1] && ovf2;
            assign c_mu_ovf[g] = m3[MT-1] && ovf3;
            assign c_out[g]    = m4[MT-1];
            assign c_rq_ovf[g] = m4[MT-1] && ovf4;
            assign c_y[g*A +: A] = y4;
            assign c_oaddr[g*32 +: 32] = (m4[95:64] * C + g) * HW + m4[31:0];
        end
    endgenerate

    function [31:0] popc;
        input [R*C-1:0] v;
        integer i;
        begin
            popc = 0;
            for (i = 0; i < R * C; i = i + 1) popc = popc + {31'd0, v[i]};
        end
    endfunction
    reg [31:0] outs;                  // outputs written
    integer q;

    // ---------------- sequencing ----------------
    always @(posedge clk) begin
        if (rst) begin
            ph <= S_IDLE; done <= 1'b0; pc <= 0; pp <= 0; pj <= 0; cyc <= 0;
            q_wr <= 1'b0; m_wr <= 1'b0;
            ovf_tap <= 0; ovf_acc <= 0; ovf_out <= 0;
            cyc_stats <= 0; cyc_quant <= 0; cyc_mu <= 0; cyc_array <= 0;
        end else begin
            cyc <= cyc + 1;
            case (ph)
                S_IDLE: if (start) begin ph <= S_STATS; pc <= 0; pp <= 0; pj <= 0; cyc <= 0; end
                S_STATS: begin
                    // pp < HW: feed; pp == HW: stats valid, encoder busy; pp == HW + 1: store
                    if (pp == HW + 1) begin
                        normm[pc] <= {en_mu, en_m, en_e};
                        pp <= 0;
                        if (pc == CIN - 1) begin
                            ph <= S_QUANT; pc <= 0; cyc_stats <= cyc + 1; cyc <= 0;
                        end else pc <= pc + 1;
                    end else pp <= pp + 1;
                end
                S_QUANT: begin
                    // pj in 0..NL: comparator bank load (thresholds one cycle behind);
                    // then pp in 0..HW-1: quantize, stored one cycle later
                    q_wr <= 1'b0;
                    if (q_wr) codem[q_addr] <= q_code;
                    if (pj < NL) begin
                        lut_r[pj*CW +: CW] <= lutmem[pc*NL + pj];
                        if (pj >= 1) thr_r[(pj-1)*TW +: TW] <= (pj - 1 < nthr[pc]) ? th_o : {1'b0, {(TW-1){1'b1}}};
                        pj <= pj + 1;
                        pp <= 0;
                    end else begin
                        q_wr <= 1'b1;
                        q_addr <= pc*HW + pp;
                        if (pp == HW - 1) begin
                            pj <= 0;
                            if (pc == CIN - 1) begin
                                ph <= S_MU; pc <= 0; mo <= 0; mq <= 0; cyc_quant <= cyc + 1; cyc <= 0;
                            end else pc <= pc + 1;
                        end else pp <= pp + 1;
                    end
                end
                S_MU: begin
                    if (q_wr) begin codem[q_addr] <= q_code; q_wr <= 1'b0; end
                    // feed (mo, mq, pc); the entry is in sq_mu's register the cycle
                    // after its last channel, and stored then
                    m_wr <= (pc == CIN - 1) && (mo < COUT);
                    m_addr <= mo*NQ + mq;
                    if (m_wr) mutab[m_addr] <= mu_term;
                    if (mo == COUT) begin
                        ph <= S_ARRAY; cyc_mu <= cyc + 1; cyc <= 0;
                        ip <= 0; ipix <= 0; ig <= 0; ic <= 0;
                        lp <= 0; lr <= 0; lg <= 0; lc <= 0; l0 <= 0; outs <= 0;
                    end else if (pc == CIN - 1) begin
                        pc <= 0;
                        if (mq == NQ - 1) begin mq <= 0; mo <= mo + 1; end
                        else mq <= mq + 1;
                    end else pc <= pc + 1;
                end
                S_ARRAY: begin
                    // issue
                    if (iss) begin
                        if (ipix == HW - 1) begin
                            ipix <= 0;
                            last_iss[ip[0]] <= cyc;
                            ip <= ip + 1;
                            if (ic == CIN - 1) begin ic <= 0; ig <= ig + 1; end
                            else ic <= ic + 1;
                        end else ipix <= ipix + 1;
                    end
                    // loader
                    if (ld_w) begin
                        if (lr == KK - 1) begin
                            lr <= 0; lp <= lp + 1; l0 <= cyc + 1;
                            if (lc == CIN - 1) begin lc <= 0; lg <= lg + 1; end
                            else lc <= lc + 1;
                        end else begin
                            lr <= lr + 1;
                            due <= cyc + LW;
                        end
                    end
                    // outputs and overflow counts
                    ovf_tap <= ovf_tap + popc(a_ov);
                    ovf_acc <= ovf_acc + popc({{(R*C-C){1'b0}}, c_dn_ovf}) + popc({{(R*C-C){1'b0}}, c_mu_ovf});
                    for (q = 0; q < C; q = q + 1)
                        if (c_out[q]) begin
                            omem[c_oaddr[q*32 +: 32]] <= c_y[q*A +: A];
                        end
                    outs <= outs + popc({{(R*C-C){1'b0}}, c_out});
                    ovf_out <= ovf_out + popc({{(R*C-C){1'b0}}, c_rq_ovf});
                    if (outs == COUT * HW) begin
                        ph <= S_DONE; done <= 1'b1; cyc_array <= cyc;
                    end
                end
                default: ;
            endcase
        end
    end
endmodule
`default_nettype wire
