// sq_norm_enc: the stats unit's end-of-channel encoder (sq_stats_acc.v makes
// its inputs): mu = round(sum / n), ties away from 0 (0 after a ReLU: relu),
// then in the [denorm] format FMT (0 full, 1 mantissa, 2 pow2) the smallest
// exponent e >= 0 such that mu^ = round(mu / 2^e) * 2^e (ties away from 0)
// fits an MMB-bit signed mantissa and M' = max(hi - mu^, mu^ - lo, 0) fits
// M^: mantissa: round(M' / 2^e) (nearest, ties up, at least 1 for M' > 0)
// below 2^XMB; pow2: M' <= 2^e, m_mant = 1. full: mu^ = mu, M^ = M', e = 0.
// The search stops by e = A + 1 (then mu^ = 0 and M' < 2^A), so it runs
// over e = 0 .. A + 1. n = 0 gives all zeros. Registered.
`default_nettype none
module sq_norm_enc #(
    parameter integer A   = 24,
    parameter integer NB  = 24,
    parameter integer MMB = 8,   // mu^ mantissa bits (signed)
    parameter integer XMB = 8,   // M^ mantissa bits (unsigned)
    parameter integer EW  = 6,   // exponent bits
    parameter integer FMT = 1
) (
    input  wire                   clk,
    input  wire signed [A+NB-1:0] sum,
    input  wire        [NB-1:0]   n,
    input  wire signed [A-1:0]    lo,
    input  wire signed [A-1:0]    hi,
    input  wire                   relu,
    output reg  signed [MMB-1:0]  mu_mant,
    output reg         [XMB-1:0]  m_mant,
    output reg         [EW-1:0]   exp
);
    localparam integer SB = A + NB;
    localparam integer IW = A + 4;   // every mu^, M' and 2^e below holds in IW bits

    // mu: magnitudes divided (the divider of the mean), sign restored
    wire          neg  = sum[SB-1];
    wire [SB-1:0] mag  = neg ? ({SB{1'b0}} - sum) : sum;
    wire [SB-1:0] nq   = {{(SB-NB){1'b0}}, n};
    // |mu| <= 2^(A-1): the quotient's bits above IW are always 0
    /* verilator lint_off UNUSEDSIGNAL */
    wire [SB-1:0] qmag = (mag + {1'b0, nq[SB-1:1]}) / ((n == {NB{1'b0}}) ? {{(SB-1){1'b0}}, 1'b1} : nq);
    /* verilator lint_on UNUSEDSIGNAL */
    wire signed [IW-1:0] mu = relu ? {IW{1'b0}} : (neg ? ({IW{1'b0}} - qmag[IW-1:0]) : qmag[IW-1:0]);

    wire signed [IW-1:0] lo_x = {{(IW-A){lo[A-1]}}, lo};
    wire signed [IW-1:0] hi_x = {{(IW-A){hi[A-1]}}, hi};
    localparam signed [IW-1:0] MU_LIM = {{(IW-1){1'b0}}, 1'b1} <<< (MMB - 1);
    localparam signed [IW-1:0] M_LIM  = {{(IW-1){1'b0}}, 1'b1} <<< XMB;
    localparam signed [IW-1:0] ONE    = {{(IW-1){1'b0}}, 1'b1};

    // max(hi - m, m - lo, 0); hi and lo are arguments so that always @*
    // sees them (it does not look inside functions)
    function signed [IW-1:0] spread;
        input signed [IW-1:0] m, h, l;
        reg   signed [IW-1:0] u, d;
        begin
            u = h - m;
            d = m - l;
            spread = (u > d) ? u : d;
            if (spread < 0) spread = {IW{1'b0}};
        end
    endfunction

    reg                  found;
    reg signed [IW-1:0]  mabs, mmag, mm, muh, sp, mx;
    reg signed [MMB-1:0] mu_c;
    reg        [XMB-1:0] m_c;
    reg        [EW-1:0]  e_c;
    integer e;
    always @* begin
        found = 1'b0;
        mu_c = {MMB{1'b0}};
        m_c  = {XMB{1'b0}};
        e_c  = {EW{1'b0}};
        mabs = mu[IW-1] ? -mu : mu;
        mmag = {IW{1'b0}}; mm = {IW{1'b0}}; muh = {IW{1'b0}}; sp = {IW{1'b0}}; mx = {IW{1'b0}};
        if (n == {NB{1'b0}}) begin
            found = 1'b1;
        end else if (FMT == 0) begin
            found = 1'b1;
            mu_c  = mu[MMB-1:0];
            sp    = spread(mu, hi_x, lo_x);
            m_c   = sp[XMB-1:0];
        end
        for (e = 0; e <= A + 1; e = e + 1) begin
            if (!found) begin
                mmag = (e == 0) ? mabs : ((mabs + (ONE <<< (e - 1))) >>> e);
                mm   = mu[IW-1] ? -mmag : mmag;
                if (mm >= -MU_LIM && mm < MU_LIM) begin
                    muh = mm <<< e;
                    sp  = spread(muh, hi_x, lo_x);
                    if (FMT == 2) begin
                        if (sp <= (ONE <<< e)) begin
                            found = 1'b1;
                            m_c   = {{(XMB-1){1'b0}}, 1'b1};
                        end
                    end else begin
                        mx = (sp + ((ONE <<< e) >>> 1)) >>> e;
                        if (mx == 0 && sp > 0) mx = ONE;
                        if (mx < M_LIM) begin
                            found = 1'b1;
                            m_c   = mx[XMB-1:0];
                        end
                    end
                    if (found) begin
                        mu_c = mm[MMB-1:0];
                        e_c  = e[EW-1:0];
                    end
                end
            end
        end
    end

    always @(posedge clk) begin
        mu_mant <= mu_c;
        m_mant  <= m_c;
        exp     <= e_c;
    end
endmodule
`default_nettype wire
