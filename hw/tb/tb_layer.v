// Replays a whole-layer set through sq_layer: loads every stimulus word
// {en, sel, addr, data} (one per cycle), pulses start, waits for done, then
// reads the output store and compares row n of expect.hex ({valid, y}: the
// output (o*H + y)*WI + x for n < NOUT, zeros after) with it; then the
// overflow counts and the phase cycle counts against the EXP_* parameters
// (EXP_CYC_ARRAY: the cycle model's standalone count of the same layer).
// Plusargs as tb_common.vh: +stim +expect +sig (+fields is accepted and not
// needed: the fields are fixed). Prints RESULT PASS / RESULT FAIL.
`timescale 1ns/1ps
module tb_layer;
    parameter integer A = 24, FQ = 10, B = 4, CW = 9, MULT = 0, W = 5, F = 10, T = 24, D = 48, MB = 16, SW = 8, L = 16;
    parameter integer NB = 24, MMB = 8, XMB = 8, EW = 6, FMT = 1, MW = 50, SWB = 9, SAT = 1, RELU = 0;
    parameter integer K = 3, CIN = 4, COUT = 4, H = 4, WI = 4, R = 9, C = 4, RB = 4, LW = 1, DW = 45, AW = 32;
    parameter integer NVEC = 1, STIM_W = 81, EXP_W = 25, NOUT = 1;
    parameter integer EXP_OVF_TAP = 0, EXP_OVF_ACC = 0, EXP_OVF_OUT = 0;
    parameter integer EXP_CYC_STATS = 0, EXP_CYC_QUANT = 0, EXP_CYC_MU = 0, EXP_CYC_ARRAY = 0;
    parameter integer MAX_CYCLES = 100000000;
    localparam integer STIM_CALC = 1 + 3 + AW + DW;
    localparam integer EXP_CALC  = 1 + A;
    localparam integer HW = H * WI;

    reg                clk = 1'b0;
    reg                rst = 1'b1;
    reg [STIM_W-1:0]   stim_mem [0:NVEC-1];
    reg [EXP_W-1:0]    exp_mem  [0:NVEC-1];
    reg [STIM_W-1:0]   stim_i = {STIM_W{1'b0}};
    reg                start = 1'b0;
    reg [AW-1:0]       rd_addr = {AW{1'b0}};
    reg [8*1024-1:0]   f_stim, f_exp, f_sig;
    reg [31:0]         sig = 32'h811c9dc5;
    integer            errors = 0;
    integer            n, fd, cycles;
    reg [EXP_W-1:0]    got;
    wire               done;
    wire [A-1:0]       rd_data;
    wire [31:0]        ovf_tap, ovf_acc, ovf_out, cyc_stats, cyc_quant, cyc_mu, cyc_array;

    sq_layer #(.A(A), .FQ(FQ), .B(B), .CW(CW), .MULT(MULT), .W(W), .F(F), .T(T), .D(D), .MB(MB), .SW(SW), .L(L),
               .NB(NB), .MMB(MMB), .XMB(XMB), .EW(EW), .FMT(FMT), .MW(MW), .SWB(SWB), .SAT(SAT), .RELU(RELU),
               .K(K), .CIN(CIN), .COUT(COUT), .H(H), .WI(WI), .R(R), .C(C), .RB(RB), .LW(LW), .DW(DW), .AW(AW)) dut (
        .clk(clk), .rst(rst),
        .ld_en(stim_i[STIM_W-1]), .ld_sel(stim_i[STIM_W-2 -: 3]), .ld_addr(stim_i[DW +: AW]), .ld_data(stim_i[DW-1:0]),
        .start(start), .done(done), .rd_addr(rd_addr), .rd_data(rd_data),
        .ovf_tap(ovf_tap), .ovf_acc(ovf_acc), .ovf_out(ovf_out),
        .cyc_stats(cyc_stats), .cyc_quant(cyc_quant), .cyc_mu(cyc_mu), .cyc_array(cyc_array));

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

    task tick;
        begin
            #5 clk = 1'b1;
            #5 clk = 1'b0;
        end
    endtask

    task check_count;
        input [8*16-1:0] name;
        input integer    got_v, want;
        begin
            if (got_v != want) begin
                errors = errors + 1;
                $display("MISMATCH counter %0s got %0d expected %0d", name, got_v, want);
            end
        end
    endtask

    initial begin
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
        tick;
        rst = 1'b0;
        for (n = 0; n < NVEC; n = n + 1) begin
            stim_i = stim_mem[n];
            tick;
        end
        stim_i = {STIM_W{1'b0}};
        start = 1'b1;
        tick;
        start = 1'b0;
        cycles = 0;
        while (!done && cycles < MAX_CYCLES) begin
            tick;
            cycles = cycles + 1;
        end
        if (!done) begin
            $display("RESULT FAIL no done after %0d cycles", cycles);
            $finish;
        end
        for (n = 0; n < NVEC; n = n + 1) begin
            rd_addr = n;
            #1;
            got = (n < NOUT) ? {1'b1, rd_data} : {EXP_W{1'b0}};
            if (got !== exp_mem[n]) begin
                errors = errors + 1;
                if (errors <= 10)
                    $display("MISMATCH output %0d (o %0d y %0d x %0d) signal dut.omem[%0d] got %0d expected %0d", n,
                             n / HW, (n % HW) / WI, n % WI, n, $signed(got[A-1:0]), $signed(exp_mem[n][A-1:0]));
            end
            sig = fnv_word(sig, got);
        end
        check_count("ovf_tap", ovf_tap, EXP_OVF_TAP);
        check_count("ovf_acc", ovf_acc, EXP_OVF_ACC);
        check_count("ovf_out", ovf_out, EXP_OVF_OUT);
        check_count("cyc_stats", cyc_stats, EXP_CYC_STATS);
        check_count("cyc_quant", cyc_quant, EXP_CYC_QUANT);
        check_count("cyc_mu", cyc_mu, EXP_CYC_MU);
        check_count("cyc_array", cyc_array, EXP_CYC_ARRAY);
        // clocked: every clock edge of the run (reset, loads, start, start -> done)
        $display("cycles stats %0d quant %0d mu %0d array %0d (cycle model %0d); clocked %0d; overflows tap %0d acc %0d out %0d",
                 cyc_stats, cyc_quant, cyc_mu, cyc_array, EXP_CYC_ARRAY, NVEC + cycles + 2, ovf_tap, ovf_acc, ovf_out);
        fd = $fopen(f_sig, "w");
        $fdisplay(fd, "vectors %0d mismatches %0d signature %h", NVEC, errors, sig);
        $fclose(fd);
        if (errors == 0)
            $display("RESULT PASS %0d vectors, signature %h", NVEC, sig);
        else
            $display("RESULT FAIL %0d mismatches over %0d vectors, signature %h", errors, NVEC, sig);
        $finish;
    end
endmodule
