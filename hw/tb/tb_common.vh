// Shared testbench body, `include'd inside each unit tb after it declares
// NVEC, STIM_W, EXP_W, STIM_CALC, EXP_CALC and the `got` wire (the DUT's
// outputs packed like an expected word); the tb drives `stim_i` into the DUT.
// Each cycle: apply vector n, clock edge, compare, fold into the signature.
// Plusargs: +stim=FILE +expect=FILE +sig=FILE (signature file written at the end).
// Prints "RESULT PASS" or "RESULT FAIL"; hw/run_rtl.sh greps the marker and
// compares the signature with the manifest's.
// sig and errors are initialized in their declarations: Verilator 5.006
// (--timing) lost values assigned before the first delay of this initial
// block when read after the loop.
reg                clk = 1'b0;
reg [STIM_W-1:0]   stim_mem [0:NVEC-1];
reg [EXP_W-1:0]    exp_mem  [0:NVEC-1];
reg [STIM_W-1:0]   stim_i;
reg [8*1024-1:0]   f_stim, f_exp, f_sig;
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
    $readmemh(f_stim, stim_mem);
    $readmemh(f_exp, exp_mem);
    for (n = 0; n < NVEC; n = n + 1) begin
        stim_i = stim_mem[n];      // inputs settle before the edge
        #5 clk = 1'b1;             // DUT registers capture
        #1;
        if (got !== exp_mem[n]) begin
            errors = errors + 1;
            if (errors <= 10)
                $display("MISMATCH cycle %0d: got %h expected %h", n, got, exp_mem[n]);
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
