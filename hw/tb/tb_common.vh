// Shared testbench body, `include'd inside each unit tb after it declares
// NVEC, STIM_W, EXP_W, STIM_CALC, EXP_CALC and the `got` wire (the DUT's
// outputs packed like an expected word); the tb drives `stim_i` into the DUT.
// Each cycle: apply vector n, clock edge, compare, fold into the signature.
// Plusargs: +stim=FILE +expect=FILE +sig=FILE (signature file written at the end),
// +fields=FILE (the set's fields.txt: one "signal lsb bits signed" line per
// expected field, so a mismatch names the cycle and the RTL signal), and
// optionally +vcd=FILE (dump every signal; Verilator needs --trace).
// Prints "RESULT PASS" or "RESULT FAIL"; hw/run_rtl.sh greps the marker and
// compares the signature with the manifest's.
// sig and errors are initialized in their declarations: Verilator 5.006
// (--timing) lost values assigned before the first delay of this initial
// block when read after the loop.
reg                clk = 1'b0;
reg [STIM_W-1:0]   stim_mem [0:NVEC-1];
reg [EXP_W-1:0]    exp_mem  [0:NVEC-1];
reg [STIM_W-1:0]   stim_i;
reg [8*1024-1:0]   f_stim, f_exp, f_sig, f_fields, f_vcd;
localparam integer MAXF = 1024;    // expected fields a set may have
reg [8*128-1:0]    fld_name [0:MAXF-1];
integer            fld_lsb  [0:MAXF-1];
integer            fld_bits [0:MAXF-1];
integer            fld_sgn  [0:MAXF-1];
integer            nfld = 0;
reg [31:0]         sig = 32'h811c9dc5;
integer            errors = 0;
integer            n, fd;

// FNV-1a over the word's 32-bit chunks, LSB chunk first (manifest "signature_def").
function [31:0] fnv_word;
    input [31:0]      h;
    input [EXP_W-1:0] word;
    reg   [EXP_W+31:0] wx;
    integer k;
    begin
        wx = {32'd0, word};
        fnv_word = h;
        for (k = 0; k < (EXP_W + 31) / 32; k = k + 1)
            fnv_word = (fnv_word ^ wx[k*32 +: 32]) * 32'h01000193;
    end
endfunction

// Reads fields.txt; returns the number of fields read (0 on a bad file).
task read_fields;
    integer fdf, rc;
    reg [8*128-1:0] nm;
    integer lsb, bits, sgn;
    begin
        nfld = 0;
        fdf = $fopen(f_fields, "r");
        if (fdf != 0) begin
            rc = 4;
            while (rc == 4 && nfld < MAXF) begin
                rc = $fscanf(fdf, "%s %d %d %d\n", nm, lsb, bits, sgn);
                if (rc == 4) begin
                    fld_name[nfld] = nm;
                    fld_lsb[nfld]  = lsb;
                    fld_bits[nfld] = bits;
                    fld_sgn[nfld]  = sgn;
                    nfld = nfld + 1;
                end
            end
            $fclose(fdf);
        end
    end
endtask

// Decimal text of a field value v (its bits under mask); neg: v is negative
// in two's complement of the field's width.
task signed_text;
    input [EXP_W-1:0]    v;
    input                neg;
    input [EXP_W-1:0]    mask;
    output [8*400-1:0]   txt;
    begin
        if (neg) $sformat(txt, "-%0d", (~v + 1'b1) & mask);
        else     $sformat(txt, "%0d", v);
    end
endtask

// One MISMATCH line per differing field of vector n (signed fields in decimal
// with their sign), at most `budget` lines; returns how many it printed.
task report_fields;
    input integer          n;
    input [EXP_W-1:0]      g, x;
    input integer          budget;
    output integer         printed;
    integer f;
    reg [EXP_W-1:0] mask, gv, xv;
    reg [8*400-1:0] gs, xs;
    begin
        printed = 0;
        for (f = 0; f < nfld; f = f + 1) begin
            mask = ~({EXP_W{1'b1}} << fld_bits[f]);
            gv = (g >> fld_lsb[f]) & mask;
            xv = (x >> fld_lsb[f]) & mask;
            if (gv !== xv && printed < budget) begin
                printed = printed + 1;
                signed_text(gv, fld_sgn[f] != 0 && gv[fld_bits[f]-1] === 1'b1, mask, gs);
                signed_text(xv, fld_sgn[f] != 0 && xv[fld_bits[f]-1] === 1'b1, mask, xs);
                $display("MISMATCH cycle %0d signal %0s got %0s expected %0s", n, fld_name[f], gs, xs);
            end
        end
    end
endtask

integer shown = 0, got_lines, fbits;
initial begin
    stim_i = {STIM_W{1'b0}};
    if (STIM_W != STIM_CALC || EXP_W != EXP_CALC) begin
        $display("RESULT FAIL layout: STIM_W %0d (dut %0d) EXP_W %0d (dut %0d)", STIM_W, STIM_CALC, EXP_W, EXP_CALC);
        $finish;
    end
    if (!$value$plusargs("stim=%s", f_stim) || !$value$plusargs("expect=%s", f_exp)
        || !$value$plusargs("sig=%s", f_sig)) begin
        $display("RESULT FAIL usage: +stim=FILE +expect=FILE +sig=FILE");
        $finish;
    end
    if (!$value$plusargs("fields=%s", f_fields)) begin
        $display("RESULT FAIL usage: +fields=FILE (the set's fields.txt)");
        $finish;
    end
    read_fields;
    fbits = 0;
    for (n = 0; n < nfld; n = n + 1) fbits = fbits + fld_bits[n];
    if (fbits != EXP_W) begin   // a truncated, malformed or foreign fields.txt
        $display("RESULT FAIL %0s: %0d field lines of %0d bits, the expected word has %0d", f_fields, nfld, fbits, EXP_W);
        $finish;
    end
    if ($value$plusargs("vcd=%s", f_vcd)) begin
        $dumpfile(f_vcd);
        $dumpvars(1, clk);
        $dumpvars(0, dut);
    end
    $readmemh(f_stim, stim_mem);
    $readmemh(f_exp, exp_mem);
    for (n = 0; n < NVEC; n = n + 1) begin
        stim_i = stim_mem[n];      // inputs settle before the edge
        #5 clk = 1'b1;             // DUT registers capture
        #1;
        if (got !== exp_mem[n]) begin
            errors = errors + 1;
            if (shown < 10) begin
                report_fields(n, got, exp_mem[n], 10 - shown, got_lines);
                shown = shown + got_lines;
            end
        end
        sig = fnv_word(sig, got);
        #4 clk = 1'b0;
    end
    fd = $fopen(f_sig, "w");
    $fdisplay(fd, "vectors %0d mismatches %0d signature %h", NVEC, errors, sig);
    $fclose(fd);
    if (errors == 0)
        $display("RESULT PASS %0d vectors, signature %h", NVEC, sig);
    else
        $display("RESULT FAIL %0d of %0d vectors mismatched, signature %h", errors, NVEC, sig);
    $finish;
end
