/** GRUB menus as data live with the boot modules (kernel_package picks default entries too); re-exported here. */
export * from '../../modules/boot/grub-menu.js';
