/**
 * Importing this module makes SSH known to the rest of axctl: the ssh:// transport (the agent
 * on stdio), ws:// and wss:// through jump hosts, and the board openers for ssh://, ws://,
 * wss:// and agentless boards, and the check that serial:// boards were not asked for SSH-only settings. open-board.ts loads host/transports/*; a one-line module there
 * (`import '../ssh/register';`) is all the wiring it needs.
 */
import { registerBoardOpener } from '../board/open-board';
import { openAgentlessBoard, openAgentOverSsh, openSerialBoard } from './board-openers';
import './transport';
import './ws-via';

registerBoardOpener('ssh', openAgentOverSsh);
registerBoardOpener('ws', openAgentOverSsh);
registerBoardOpener('wss', openAgentOverSsh);
registerBoardOpener('agentless', openAgentlessBoard);
registerBoardOpener('serial', openSerialBoard);
