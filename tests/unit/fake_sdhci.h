/*
 * A register-level fake SD Host Controller (SD Host Controller Simplified Specification v3.00,
 * §2 register map) with a RAM-backed SD card behind it (SD Physical Layer Simplified
 * Specification v6.00, §4), for host tests of an SDHCI driver and the SD protocol above it.
 * It maps itself with fake_mmio_map(), so the code under test reaches it through arch/mmio.h.
 *
 * The controller does PIO, and ADMA2 with 32-bit descriptors once the test gives it memory
 * (fake_sdhci_enable_dma; see "DMA" below); never SDMA or 64-bit ADMA2. Nothing depends on
 * time: the only delays are counted in "status reads", i.e. reads of Present State (0x24) or
 * Normal Interrupt Status (0x30); an access that covers both registers counts once.
 *
 * What the fake counts as a protocol violation (a driver bug; tests assert the count stays 0):
 * a Buffer Data Port read with no block ready or write with no room, or either during a DMA
 * transfer; a command written while Command Inhibit (CMD) is 1, or one that uses DAT (data or
 * busy) while Command Inhibit (DAT) is 1 unless its Command Type is Abort (such commands are
 * dropped); DMA Enable on a data command without fake_sdhci_enable_dma, or with a DMA Select
 * (Host Control 1 bits 4:3) other than 10b, ADMA2 32-bit (dropped); a Response Type Select
 * other than the card's response to the command (when the card answers); Data Present Select,
 * Data Transfer Direction, Multi/Single Block or Block Size not matching the command; Block
 * Count 0 for a counted multi-block transfer; a command sent at an SD clock over the card's
 * limit (400 kHz in idle/ready/ident, then 25 MHz, 50 MHz after the CMD6 switch to high speed);
 * data moved with host and card bus widths that differ; SD Clock Enable set before Internal
 * Clock Stable reads 1; the SDCLK divider changed while SD Clock Enable stays 1 or while either
 * inhibit is 1.
 *
 * Errors behave as the spec says: a command error (timeout, CRC, end bit, index) sets its
 * Error Interrupt Status bit and leaves Command Inhibit (CMD), and Command Inhibit (DAT) for a
 * command using DAT, at 1 until a Software Reset for the CMD (and DAT) line; a data error
 * likewise stops the transfer without Transfer Complete and keeps Command Inhibit (DAT) until
 * a DAT line reset. A card that does not answer (absent, unpowered, no SD clock, an unknown
 * command or one illegal in its state) gives a command timeout; an illegal command also sets
 * ILLEGAL_COMMAND in the card status of the next response. A read or write command whose R1
 * reports an error (OUT_OF_RANGE, ADDRESS_ERROR, BLOCK_LEN_ERROR, WP_VIOLATION) moves no data,
 * so the controller reports a data timeout from the status read after Command Complete.
 *
 * The card: R1 CURRENT_STATE is the state the command found (SD v6.00 §4.10.1). Auto CMD12's
 * response goes to RESP bits 127:96 (0x1C), an R2's bits 127:8 to RESP bits 119:0. CMD6 (check
 * or switch, 64-byte status) offers high speed in function group 1 only; ACMD13 returns a
 * mostly empty 64-byte SD Status with DAT_BUS_WIDTH; ACMD51 an 8-byte SCR (bus widths 1 and 4,
 * CMD23 unless v1, DATA_STAT_AFTER_ERASE from erase_value). Blocks are 512 bytes: an SDSC
 * CMD16 to another length makes later reads and writes fail with BLOCK_LEN_ERROR. CMD38 on a
 * write-protected card reports WP_ERASE_SKIP (bit 15, the spec's bit for erase), writes report
 * WP_VIOLATION (bit 26). Resets of the controller leave the card's state alone (a card in data
 * or rcv still wants CMD12); a reset all, or Power Control off, powers the card down.
 *
 * DMA (SDHCI v3.00 §1.13, ADMA2 with 32-bit descriptors only). After fake_sdhci_enable_dma,
 * Capabilities report ADMA2 Support (bit 19; SDMA, bit 22, stays 0) and the controller reaches
 * bus addresses [bus, bus + size) as the test's memory. A data command with Transfer Mode DMA
 * Enable (bit 0) and DMA Select 10b runs the same card state machine as PIO (Auto CMD12/CMD23,
 * Block Count counting down, R1 errors moving no data, fake_sdhci_fail_data), but its blocks
 * move by the ADMA, all at the first status read after Command Complete; Buffer Read Ready and
 * Buffer Write Ready are never raised, Buffer Read/Write Enable read 0, and Transfer Complete
 * follows, after the busy of fake_sdhci_set_busy for a write (its count starts at the next
 * status read). The engine takes the ADMA System Address (0x58, 0x5C) as it was when the
 * command was written and walks the table there: each 8-byte little-endian descriptor is bits
 * 15:0 attribute (bit 0 Valid, 1 End, 2 Int, 5:4 Act: 00 Nop, 10 Tran, 11 Link), 31:16 length
 * (0 = 65536), 63:32 address. Nop is skipped, Link goes on at its address, Tran moves its bytes
 * between the card and memory in order (a block's bytes may span descriptors); Int raises DMA
 * Interrupt (Normal Interrupt Status bit 3) after its descriptor; the walk ends after the
 * descriptor with End. 0x58 follows the walk (§2.2.31): the line after the one fetched, a
 * Link's target, or on an error the address the ADMA Error State calls for. An ADMA Error
 * (Error Interrupt Status bit 9) stops the transfer as a data error does (no Transfer
 * Complete, no Auto CMD12, Command Inhibit (DAT) 1 until a DAT line reset; data moved before
 * it stays moved; the card is left in data or rcv, wanting CMD12), with ADMA Error Status
 * (0x54, kept until the next ADMA error or a reset all) set to:
 *   01b ST_FDS, 0x58 at the descriptor: 0x5C not 0; a descriptor not 4-byte aligned or not
 *       wholly inside the window; Valid = 0 (End or not); Act 01b (reserved: an error here,
 *       though the spec's table lets hardware treat it as Nop); more than
 *       FAKE_SDHCI_ADMA_MAX_DESC descriptors fetched (a Link loop);
 *   11b ST_TFR, 0x58 after the descriptor: a Tran address not 4-byte aligned or a range not
 *       wholly inside the window; with bit 2 (length mismatch), a Tran with more bytes than
 *       the transfer has left (none of that descriptor's bytes move);
 *   100b (length mismatch, ST_STOP), 0x58 after the End descriptor: End reached with fewer
 *       bytes than Block Size * Block Count (single block: Block Size).
 * A multi-block transfer without Block Count Enable is as long as its table, which must end
 * on a block boundary (else the ST_STOP length mismatch); as with PIO it then stays open, with
 * no Transfer Complete, until CMD12. An ADMA error is not a protocol violation. Reset All
 * clears Host Control 1 (DMA Select back to 00b) and the ADMA registers; the window stays.
 */
#ifndef TESTS_UNIT_FAKE_SDHCI_H
#define TESTS_UNIT_FAKE_SDHCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Bytes of register space the fake maps (SDHCI v3.00 §2.1: one slot). */
#define FAKE_SDHCI_SIZE 0x100u
/** The base clock the Capabilities register reports (bits 15:8, in MHz). */
#define FAKE_SDHCI_BASE_HZ 50000000u
/** The RCA the card publishes in its CMD3 response (SD v6.00 §4.9.5). */
#define FAKE_SDHCI_RCA 0x4567u
/** The index the counters use for application command n (after CMD55): ACMD41 is 64 + 41. */
#define FAKE_SDHCI_ACMD(n) (64u + (n))
/** The most descriptors the ADMA fetches for one transfer before it reports an ADMA error. */
#define FAKE_SDHCI_ADMA_MAX_DESC 4096u

/** The card's state, numbered as CURRENT_STATE in the card status (SD v6.00 §4.10.1). */
enum fake_card_state {
	FAKE_CARD_IDLE = 0,
	FAKE_CARD_READY = 1,
	FAKE_CARD_IDENT = 2,
	FAKE_CARD_STBY = 3,
	FAKE_CARD_TRAN = 4,
	FAKE_CARD_DATA = 5,
	FAKE_CARD_RCV = 6,
	FAKE_CARD_PRG = 7,
	FAKE_CARD_DIS = 8,
	FAKE_CARD_INA = 9,  /* inactive after an unusable ACMD41 voltage window (no code) */
	FAKE_CARD_OFF = 10, /* not powered (no code) */
};

/**
 * The card behind the controller. An SDHC card (CSD v2, block addressing) needs blocks to be a
 * non-zero multiple of 1024 (C_SIZE = blocks / 1024 - 1); an SDSC card (CSD v1, byte
 * addressing, READ_BL_LEN 9) needs blocks = m * 2^k with 1 <= m <= 4096 and 2 <= k <= 9, i.e.
 * a multiple of 4 up to 2^21 blocks (1 GiB) whose C_SIZE + 1 = m fits 12 bits. A v1 card must
 * be SDSC. fake_sdhci_create() aborts on anything else.
 */
struct fake_card_cfg {
	uint64_t blocks;                /* capacity in 512-byte blocks */
	bool sdhc;                      /* CCS = 1 in the OCR, block addresses, CSD v2 */
	bool v1;                        /* a Physical Layer v1.x card: no answer to CMD8 */
	unsigned int acmd41_busy_polls; /* ACMD41 answers busy this many times first */
	bool write_protect;             /* WP pin low, CSD TMP_WRITE_PROTECT: writes refused */
	uint8_t erase_value;            /* 0x00 or 0xff: what erased blocks read as */
};

/** The controller and card state (opaque). */
struct fake_sdhci;

/**
 * Makes a powered-off controller at base with an inserted card whose contents are card_data
 * (cfg->blocks * 512 bytes, owned by the test) and maps it; aborts on a bad cfg.
 */
struct fake_sdhci *fake_sdhci_create(uintptr_t base, uint8_t *card_data,
                                     const struct fake_card_cfg *cfg);
/** Unmaps the controller and frees it. */
void fake_sdhci_destroy(struct fake_sdhci *f);

/**
 * Makes the next command with index cmd_index (FAKE_SDHCI_ACMD(n) for ACMD n; 12 also
 * catches an Auto CMD12, which then reports through Auto CMD Error Status) fail with these
 * Error Interrupt Status bits 3:0 (1 << 0 timeout, 1 << 1 CRC, 1 << 2 end bit, 1 << 3 index):
 * the card does not act on it. One-shot; one pending failure per index.
 */
void fake_sdhci_fail_cmd(struct fake_sdhci *f, unsigned int cmd_index, uint16_t error_bits);
/**
 * Makes block number block (0-based) of the next data transfer fail with these Error
 * Interrupt Status bits (1 << 4 data timeout, 1 << 5 data CRC, 1 << 6 data end bit): a read
 * block never becomes ready, a written block is not stored. One-shot: the next transfer takes
 * it even if it ends before that block.
 */
void fake_sdhci_fail_data(struct fake_sdhci *f, unsigned int block, uint16_t error_bits);
/**
 * Pulls the card out: Present State's card bits clear, Card Removal is raised, and every later
 * command times out; a transfer under way stops with a data timeout.
 */
void fake_sdhci_remove_card(struct fake_sdhci *f);
/**
 * Makes the card hold DAT0 low (busy) for this many status reads at its next programming:
 * the end of a write's data (the last block, or the CMD12 that stops an open-ended write), or
 * an erase (CMD38). Transfer Complete, and the card's return to tran, wait for the end of busy;
 * UINT_MAX is forever (until the card loses power). One-shot.
 */
void fake_sdhci_set_busy(struct fake_sdhci *f, unsigned int reads);
/**
 * Makes every later command complete only after this many status reads (0 = at once): the
 * card acts on it, and Command Complete and the response appear, after the last of them.
 */
void fake_sdhci_set_cmd_delay(struct fake_sdhci *f, unsigned int reads);

/**
 * Gives the controller DMA (see "DMA" above): Capabilities report ADMA2 Support from now on
 * (and after a reset all), and the ADMA reaches bus addresses [bus, bus + size) as the host
 * memory at mem (owned by the test). Without it, DMA Enable on a data command is a protocol
 * violation. Aborts on no memory or a window past the end of the 64-bit bus.
 */
void fake_sdhci_enable_dma(struct fake_sdhci *f, void *mem, uint64_t bus, size_t size);
/**
 * How many data commands moved their data by DMA: counted when the card accepted the command
 * and the data phase began (before the table is walked, so one ending in an ADMA or data error
 * counts; one whose R1 reports an error, moving no data, does not).
 */
unsigned int fake_sdhci_dma_count(const struct fake_sdhci *f);

/**
 * How many times the controller put a command with this index on the bus (ACMD n counted as
 * FAKE_SDHCI_ACMD(n); Auto CMD12 and Auto CMD23 included; timeouts and injected failures too).
 */
unsigned int fake_sdhci_cmd_count(const struct fake_sdhci *f, unsigned int cmd_index);
/** The argument of the last command counted under cmd_index (0 if none). */
uint32_t fake_sdhci_last_arg(const struct fake_sdhci *f, unsigned int cmd_index);
/**
 * How many resets of the kinds in which (Software Reset bits: 0x01 all, 0x02 CMD line, 0x04 DAT
 * line) were written, added up; a reset all counts only as 0x01.
 */
unsigned int fake_sdhci_resets(const struct fake_sdhci *f, uint8_t which);
/** How many protocol violations (see above) the code under test committed. */
unsigned int fake_sdhci_violations(const struct fake_sdhci *f);
/** A description of the last protocol violation ("" if none), for test failure messages. */
const char *fake_sdhci_last_violation(const struct fake_sdhci *f);
/** The interrupt line: whether a status bit is set whose Signal Enable bit is set. */
bool fake_sdhci_irq(const struct fake_sdhci *f);

/** The host's data bus width from Host Control 1: 1, 4 or 8. */
unsigned int fake_sdhci_bus_width(const struct fake_sdhci *f);
/** The card's data bus width (ACMD6): 1 or 4. */
unsigned int fake_sdhci_card_bus_width(const struct fake_sdhci *f);
/** The 10-bit SDCLK divider N from Clock Control (SDCLK = base / 2N, base if N = 0). */
uint32_t fake_sdhci_clock_divider(const struct fake_sdhci *f);
/** The SD clock the card sees in Hz, 0 if it is stopped. */
uint32_t fake_sdhci_clock_hz(const struct fake_sdhci *f);
/** Whether Host Control 1's High Speed Enable is set. */
bool fake_sdhci_high_speed(const struct fake_sdhci *f);
/** Whether the card runs function 1 (high speed) of function group 1 (CMD6). */
bool fake_sdhci_card_high_speed(const struct fake_sdhci *f);
/** The card's state. */
enum fake_card_state fake_sdhci_card_state(const struct fake_sdhci *f);

#endif
