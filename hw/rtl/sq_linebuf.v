// sq_linebuf: the activation line buffer and window generator (hw/ARRAY.md
// "The layer engine"): one channel's SQ codes stream in raster order, one
// per step; K - 1 line memories of WI codes and a K x K window register
// turn the stream into the K x K window of every pixel, zero-padded at the
// border ('same' padding, hw::border::inside: tap (ky, kx) of pixel (y, x)
// reads (y + ky - K/2, x + kx - K/2) and is inside iff that lies in the
// H x WI image).
// Timing: step n of a plane (start with the plane's first step restarts it)
// writes pixel n (n < HW; on the LAT flush steps after it in_code lands
// in rows outside the image and never shows) and, when LAT <= n < HW + LAT with LAT = (K/2)*(WI + 1), leaves pixel
// n - LAT's window on the outputs after the clock edge: out_valid, out_pix,
// out_op (tap t = ky*K + kx inside), out_code (tap t at [t*CW +: CW], 0
// outside). With step low everything holds. Not valid: every output 0.
// Storage: (K - 1)*WI codes in the line memories (one read and one write
// per step at the same column) plus K*K window registers; K = 1 is a
// register (LAT = 0).
`default_nettype none
module sq_linebuf #(
    parameter integer CW = 9,   // SQ code bits
    parameter integer K  = 3,   // kernel size (odd)
    parameter integer H  = 4,   // plane height
    parameter integer WI = 4    // plane width
) (
    input  wire               clk,
    input  wire               step,
    input  wire               start,
    input  wire [CW-1:0]      in_code,
    output wire               out_valid,
    output wire [31:0]        out_pix,
    output wire [K*K-1:0]     out_op,
    output wire [K*K*CW-1:0]  out_code
);
    localparam integer KK = K * K, PAD = K / 2, HW = H * WI, LAT = PAD * (WI + 1);
    localparam integer NL = (K > 1) ? (K - 1) * WI : 1;

    reg [CW-1:0] lb  [0:NL-1];  // line j (pixel row y - 1 - j) at [j*WI + x]
    reg [CW-1:0] win [0:KK-1];  // window row r, column c at [r*K + c]
    reg [31:0] n;               // steps taken in this plane
    reg [31:0] xs;              // column of the next step
    reg [31:0] yc, xc, pc;      // the window's centre pixel
    reg        v;

    wire [31:0] n0 = start ? 32'd0 : n;      // this step's position
    wire [31:0] x0 = start ? 32'd0 : xs;
    // the new window column: rows y - K + 1 .. y at column x0 (the stream, then the lines)
    reg [CW-1:0] col [0:K-1];
    integer r, c, j;
    always @* begin
        col[K-1] = in_code;   // on flush steps a row below the image: never inside
        for (r = 0; r < K - 1; r = r + 1) col[r] = lb[(K - 2 - r) * WI + x0];
    end
    always @(posedge clk) if (step) begin
        for (r = 0; r < K; r = r + 1) begin
            for (c = 0; c < K - 1; c = c + 1) win[r*K + c] <= win[r*K + c + 1];
            win[r*K + K - 1] <= col[r];
        end
        if (K > 1) begin
            lb[x0] <= col[K-1];
            for (j = 1; j < K - 1; j = j + 1) lb[j*WI + x0] <= lb[(j - 1)*WI + x0];
        end
        n  <= n0 + 1;
        xs <= (x0 == WI - 1) ? 32'd0 : x0 + 1;
        /* verilator lint_off UNSIGNED */   // n0 >= LAT is constant when K = 1
        v  <= (n0 >= LAT) && (n0 < HW + LAT);
        /* verilator lint_on UNSIGNED */
        // the centre advances in raster order from pixel 0 at n0 == LAT
        if (n0 == LAT) begin
            yc <= 0; xc <= 0; pc <= 0;
        end else if (n0 > LAT) begin
            pc <= pc + 1;
            xc <= (xc == WI - 1) ? 32'd0 : xc + 1;
            yc <= (xc == WI - 1) ? yc + 1 : yc;
        end
    end

    // border mask of the centre: tap (ky, kx) inside the image
    reg [KK-1:0]    op;
    reg [KK*CW-1:0] code;
    integer sy, sx;
    always @* begin
        op = {KK{1'b0}};
        code = {(KK*CW){1'b0}};
        for (r = 0; r < K; r = r + 1)
            for (c = 0; c < K; c = c + 1) begin
                sy = yc + r - PAD;
                sx = xc + c - PAD;
                if (v && sy >= 0 && sy < H && sx >= 0 && sx < WI) begin
                    op[r*K + c] = 1'b1;
                    code[(r*K + c)*CW +: CW] = win[r*K + c];
                end
            end
    end
    assign out_valid = v;
    assign out_pix   = v ? pc : 32'd0;
    assign out_op    = op;
    assign out_code  = code;
endmodule
`default_nettype wire
