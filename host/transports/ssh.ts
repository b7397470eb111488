/**
 * Registers ssh:// (agent over an SSH channel, agentless boards) and ws:// through jump hosts.
 * openBoard() loads every module in this folder before its first open.
 */
import '../ssh/register';
