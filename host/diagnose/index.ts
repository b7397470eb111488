/** `axctl diagnose`: the precision-loss checklist automated. Other parts of axctl import from here. */
export { diagnose, type DiagnoseDeps, type DiagnoseResult } from './diagnose';
export { validateOptions, type DiagnoseOptions } from './options';
export { decide, NEEDS, type BoardOutcome, type Decision, type DecisionInput, type Outcome, type PlatformAnswer } from './decide';
export { REMEDY } from './remedies';
export { CHECKS, CHECK_ORDER, type CheckId } from './checks';
export { diagnoseExitCode } from './exit-code';
export { loadVerifyReport, type BoardRunRequest, type BoardVerifier } from './board';
export { verifyOnBoard, type BoardConnection } from './board-verifier';
export { judgeCalibration } from './calibration';
