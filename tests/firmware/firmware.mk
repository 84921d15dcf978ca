# firmware.mk - bare-metal Cortex-M4 images for QEMU's mps2-an386, built
# and run by `make cross` (included from the Makefile). Three builds of
# the core and permessage-deflate, each an archive so that the linker
# takes only what an image uses:
#   fw      -DWSX_NO_MALLOC -DWSX_NO_METRICS -DWSX_NO_HTTP -DWSX_NO_SENDV:
#           what firmware ships (echo images, fw tests); the metrics hooks
#           cost 1 KiB of .text, on_http's request bodies and streams and
#           the gather write 1 KiB together (include/wsx.h lists them)
#   unit    with malloc: the portable unit tests of tests/unit, unchanged
#   strict  fw plus -mno-unaligned-access: every access the C code makes
#           through a misaligned word pointer faults under UNALIGN_TRP
FW_CC     := arm-none-eabi-gcc
FW_ARCH   := -mcpu=cortex-m4 -mthumb -mfloat-abi=soft
FW_B      := $(BUILD)/cross/m4
FW_DIR    := tests/firmware
FW_CFLAGS  = $(WARN) -Os -g $(FW_ARCH) -ffunction-sections -fdata-sections \
             -Iinclude -Ilib/core -Ilib/deflate -Itests/unit -I$(FW_DIR)
FW_LDFLAGS = $(FW_ARCH) -nostartfiles -T $(FW_DIR)/mps2-an386.ld -Wl,--gc-sections
FW_VAR_fw     := -DWSX_NO_MALLOC -DWSX_NO_METRICS -DWSX_NO_HTTP -DWSX_NO_SENDV
FW_VAR_unit   :=
FW_VAR_strict := -DWSX_NO_MALLOC -mno-unaligned-access
FW_HARNESS := startup fw_sys
FW_HDRS   := $(wildcard include/*.h lib/*/*.h $(FW_DIR)/*.h tests/unit/*.h)
FW_QEMU   := timeout 300 qemu-system-arm -M mps2-an386 -nographic \
             -semihosting-config enable=on,target=native -kernel
# The portable unit tests (zlib is not on the target).
FW_UNIT   := $(filter-out test_deflate_zlib,$(UNIT_SRC:tests/unit/%.c=%))
FW_TESTS  := test_fw_session test_fw_32bit test_fw_32bit_trap
FW_IMAGES := $(FW_TESTS:%=$(FW_B)/bin/%) $(FW_UNIT:%=$(FW_B)/bin/%) \
             $(FW_B)/bin/test_echo_min $(FW_B)/bin/test_echo_pmd $(FW_B)/bin/budget

define fw_variant
$(FW_B)/$(1)/%.o: %.c $(FW_HDRS)
	@mkdir -p $$(@D)
	$(FW_CC) $(FW_CFLAGS) $(FW_VAR_$(1)) -c $$< -o $$@
$(FW_B)/$(1)/libwsx.a: $(CROSS_SRC:%.c=$(FW_B)/$(1)/%.o)
	rm -f $$@ && arm-none-eabi-ar rcs $$@ $$^
$(FW_B)/$(1)/harness.a: $(FW_HARNESS:%=$(FW_B)/$(1)/$(FW_DIR)/%.o)
	rm -f $$@ && arm-none-eabi-ar rcs $$@ $$^
endef
$(foreach v,fw unit strict,$(eval $(call fw_variant,$(v))))

# Images: startup and semihosting first (the vector table is KEEP), then
# the image's own objects, the core, newlib.
FW_LINK = @mkdir -p $(@D) $(FW_B)/map && $(FW_CC) $(FW_LDFLAGS) -Wl,-Map,$(FW_B)/map/$(@F).map -o $@ \
          -Wl,--whole-archive $(word 2,$^) -Wl,--no-whole-archive
$(FW_B)/bin/test_echo_min: $(FW_B)/fw/$(FW_DIR)/echo.o $(FW_B)/fw/harness.a $(FW_B)/fw/libwsx.a
	$(FW_LINK) $< $(word 3,$^) --specs=nano.specs --specs=nosys.specs
$(FW_B)/fw/$(FW_DIR)/echo_pmd.o: $(FW_DIR)/echo.c $(FW_HDRS)
	@mkdir -p $(@D)
	$(FW_CC) $(FW_CFLAGS) $(FW_VAR_fw) -DFW_ECHO_DEFLATE -c $< -o $@
$(FW_B)/bin/test_echo_pmd: $(FW_B)/fw/$(FW_DIR)/echo_pmd.o $(FW_B)/fw/harness.a $(FW_B)/fw/libwsx.a
	$(FW_LINK) $< $(word 3,$^) --specs=nano.specs --specs=nosys.specs
$(FW_B)/bin/test_fw_%: $(FW_B)/fw/$(FW_DIR)/test_fw_%.o $(FW_B)/fw/harness.a $(FW_B)/fw/libwsx.a
	$(FW_LINK) $< $(word 3,$^) --specs=nosys.specs
$(FW_B)/bin/budget: $(FW_B)/fw/$(FW_DIR)/budget.o $(FW_B)/fw/harness.a $(FW_B)/fw/libwsx.a
	$(FW_LINK) $< $(word 3,$^) --specs=nosys.specs
$(FW_B)/strict/$(FW_DIR)/test_fw_32bit_trap.o: $(FW_DIR)/test_fw_32bit.c $(FW_HDRS)
	@mkdir -p $(@D)
	$(FW_CC) $(FW_CFLAGS) $(FW_VAR_strict) -DFW_TRAP -c $< -o $@
# newlib's memcpy moves words through unaligned LDR/STR (legal on the M4):
# the trap image wraps it with a byte copy, so that a trap points at wsx.
$(FW_B)/bin/test_fw_32bit_trap: $(FW_B)/strict/$(FW_DIR)/test_fw_32bit_trap.o $(FW_B)/strict/harness.a $(FW_B)/strict/libwsx.a
	$(FW_LINK) $< $(word 3,$^) --specs=nosys.specs -Wl,--wrap=memcpy
# A unit test keeps its own main(), renamed; unit_main.c runs it.
$(FW_B)/unit/tests/unit/%.o: tests/unit/%.c $(FW_HDRS)
	@mkdir -p $(@D)
	$(FW_CC) $(FW_CFLAGS) -Dmain=wsx_unit_main -c $< -o $@
$(FW_B)/bin/test_%: $(FW_B)/unit/tests/unit/test_%.o $(FW_B)/unit/harness.a $(FW_B)/unit/$(FW_DIR)/unit_main.o $(FW_B)/unit/libwsx.a
	$(FW_LINK) $< $(word 3,$^) $(word 4,$^) --specs=nosys.specs -lm

.PRECIOUS: $(FW_B)/fw/%.o $(FW_B)/unit/%.o $(FW_B)/strict/%.o $(FW_B)/unit/tests/unit/%.o
.PHONY: firmware
firmware: $(FW_IMAGES)
