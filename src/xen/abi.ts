/**
 * Numbers of the Xen guest ABI (xen/include/public/xen.h, errno.h, features.h, hvm/params.h;
 * summarised in ../shared/docs/xen-abi.md sections 0 and 3).
 */
export const HYPERVISOR = {
  set_timer_op: 15,
  xen_version: 17,
  console_io: 18,
  grant_table_op: 20,
  vm_assist: 21,
  vcpu_op: 24,
  sched_op: 29,
  event_channel_op: 32,
  physdev_op: 33,
  hvm_op: 34,
  memory_op: 12,
  multicall: 13,
  platform_op: 7,
} as const;

/** Xen errno values; hypercalls return them negated. */
export const EPERM = 1, ENOENT = 2, ESRCH = 3, EFAULT = 14, EBUSY = 16, EEXIST = 17, EINVAL = 22, ENOSPC = 28,
  ENOSYS = 38, ETIME = 62, EOPNOTSUPP = 95;

export const DOMID_SELF = 0x7ff0;

/** XENVER_get_features submap 0 bits we offer a PVH/PVHVM guest. */
export const XENFEAT_writable_page_tables = 1 << 0;
export const XENFEAT_auto_translated_physmap = 1 << 2;
export const XENFEAT_hvm_callback_vector = 1 << 8;
export const XENFEAT_hvm_safe_pvclock = 1 << 9;

/** HVM params (hvm/params.h). */
export const HVM_PARAM_CALLBACK_IRQ = 0, HVM_PARAM_STORE_PFN = 1, HVM_PARAM_STORE_EVTCHN = 2,
  HVM_PARAM_CONSOLE_PFN = 17, HVM_PARAM_CONSOLE_EVTCHN = 18, HVM_NR_PARAMS = 39;

export const VIRQ_TIMER = 0;

/** SCHEDOP_shutdown reasons. */
export const SHUTDOWN_poweroff = 0, SHUTDOWN_reboot = 1, SHUTDOWN_suspend = 2, SHUTDOWN_crash = 3,
  SHUTDOWN_watchdog = 4, SHUTDOWN_soft_reset = 5;

/** Xen version we report: 4.17, so Linux takes its modern XenStore paths. */
export const XEN_MAJOR = 4, XEN_MINOR = 17;
