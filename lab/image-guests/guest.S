/*
 * The lab's nested guests' whole operating system (lab/image-guests/guest.S, a multiboot image QEMU boots directly):
 * it lists the PCI functions of buses 0-1 on COM1 (as `rollgate-lab-guest: pci 0000:BB:DD.F VVVV:DDDD class 0xCCCCCC`),
 * prints `rollgate-lab-guest: ready`, and idles in `hlt` (woken by the BIOS's PIT tick) until the ACPI power button
 * (libvirt's `virsh shutdown`) is pressed, then powers off through PIIX4's PM1 control. A Debian kernel took ~10 min
 * to reach its init under TCG inside a TCG lab VM; this takes well under a second of emulated CPU.
 */
	.set MB_MAGIC, 0x1BADB002
	.text
	.code32
	.align 4
	.long MB_MAGIC
	.long 0
	.long -MB_MAGIC
	.globl _start
_start:
	cli
	mov $stack_top, %esp
	lgdt gdt_desc
	ljmp $0x08, $1f
1:	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	/* COM1: 115200 8N1, no interrupts */
	mov $0x3f9, %dx; xor %al, %al; out %al, %dx
	mov $0x3fb, %dx; mov $0x80, %al; out %al, %dx
	mov $0x3f8, %dx; mov $1, %al; out %al, %dx
	mov $0x3f9, %dx; xor %al, %al; out %al, %dx
	mov $0x3fb, %dx; mov $3, %al; out %al, %dx
	mov $s_up, %esi; call puts
	xor %ebx, %ebx                  /* bus << 16 | dev << 11 | fn << 8 */
scan:
	mov %ebx, %eax; call cfg_read
	cmp $0xffffffff, %eax; je next
	mov %eax, %edi
	mov $s_pci, %esi; call puts
	mov %ebx, %eax; shr $16, %eax; call hex2
	mov $':', %al; call putc
	mov %ebx, %eax; shr $11, %eax; and $0x1f, %eax; call hex2
	mov $'.', %al; call putc
	mov %ebx, %eax; shr $8, %eax; and $7, %eax; add $'0', %al; call putc
	mov $' ', %al; call putc
	mov %edi, %eax; call hex4
	mov $':', %al; call putc
	mov %edi, %eax; shr $16, %eax; call hex4
	mov $s_class, %esi; call puts
	mov %ebx, %eax; or $0x08, %eax; call cfg_read
	shr $8, %eax; call hex6
	mov $s_nl, %esi; call puts
next:	add $0x100, %ebx
	cmp $0x20000, %ebx
	jb scan
	mov $s_ready, %esi; call puts
	/* PIIX4 PM (00:01.3) I/O base from its PMBA register; PM1_EN.PWRBTN_EN on */
	mov $((1 << 11) | (3 << 8) | 0x40), %eax; call cfg_read
	and $0xffc0, %eax
	mov %eax, %ebp
	lea 2(%ebp), %edx; mov $0x100, %ax; out %ax, %dx
	/* IDT: every vector acknowledges the master PIC and returns; only IRQ0 (the PIT) unmasked */
	mov $idt, %edi
	mov $256, %ecx
	mov $isr, %eax
2:	mov %ax, (%edi)
	movw $0x08, 2(%edi)
	movw $0x8e00, 4(%edi)
	mov %eax, %edx; shr $16, %edx; mov %dx, 6(%edi)
	add $8, %edi
	loop 2b
	lidt idt_desc
	mov $0xfe, %al; out %al, $0x21
	mov $0xff, %al; out %al, $0xa1
idle:	sti
	hlt
	cli
	mov %ebp, %edx; in %dx, %ax
	test $0x100, %ax
	jz idle
	mov $s_off, %esi; call puts
	lea 4(%ebp), %edx; mov $0x2000, %ax; out %ax, %dx   /* SLP_EN, SLP_TYP 0: soft off */
	jmp idle

isr:	push %eax
	mov $0x20, %al; out %al, $0x20
	pop %eax
	iret

/* eax = bus/dev/fn/reg -> eax = config dword */
cfg_read:
	or $0x80000000, %eax
	mov $0xcf8, %dx; out %eax, %dx
	mov $0xcfc, %dx; in %dx, %eax
	ret
putc:	push %edx; push %eax
	mov $0x3fd, %dx
3:	in %dx, %al; test $0x20, %al; jz 3b
	pop %eax; mov $0x3f8, %dx; out %al, %dx
	pop %edx
	ret
puts:	lodsb; test %al, %al; jz 4f; call putc; jmp puts
4:	ret
/* hexN: print the low N digits of eax */
hex6:	mov $6, %ecx; jmp hexn
hex4:	mov $4, %ecx; jmp hexn
hex2:	mov $2, %ecx
hexn:	push %eax
	mov %ecx, %edx; dec %edx; shl $2, %edx
	push %ecx; mov %edx, %ecx; shr %cl, %eax; pop %ecx
	and $0xf, %eax
	mov hexdig(%eax), %al
	call putc
	pop %eax
	loop hexn
	ret

	.data
hexdig:	.ascii "0123456789abcdef"
s_up:	.asciz "rollgate-lab-guest: up (lab/image-guests/guest.S)\r\n"
s_pci:	.asciz "rollgate-lab-guest: pci 0000:"
s_class: .asciz " class 0x"
s_nl:	.asciz "\r\n"
s_ready: .asciz "rollgate-lab-guest: ready\r\n"
s_off:	.asciz "rollgate-lab-guest: power button, powering off\r\n"
	.align 8
gdt:	.quad 0
	.quad 0x00cf9a000000ffff
	.quad 0x00cf92000000ffff
gdt_desc: .word 23
	.long gdt
idt_desc: .word 256 * 8 - 1
	.long idt

	.bss
	.align 16
idt:	.skip 256 * 8
	.skip 4096
stack_top:
