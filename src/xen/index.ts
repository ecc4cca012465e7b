// The Xen PVonHVM shim's public entry. The machine implements XenGuestMemory
// and VirtualClock (platform.ts), loads a scenario, and installs the
// hypervisor before the loader writes the new kernel:
//
//   const r = resolveScenario(loadScenario(file));
//   const xen = new XenHypervisor(memory, clock, r.state, r.config);
//   xen.install();
export * from './abi.ts';
export * from './platform.ts';
export * from './xenTime.ts';
export * from './staleState.ts';
export * from './initialContent.ts';
export * from './hypervisor.ts';
export * from './firstKernel.ts';
export * from './scenario.ts';
export * from './scenarioValues.ts';
export * from './scenarioResolve.ts';
export { Prng } from './prng.ts';
export * from './bundledScenarios.ts';
