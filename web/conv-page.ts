// Browser entry for test/browser.test.ts: runs convCheck on navigator.gpu and leaves the outcome on window.
import * as vg from '../index.ts';
import { convCheck } from './conv-check.ts';

const page = window as unknown as { voxgradResult?: unknown; voxgradError?: string };
convCheck(vg).then((r) => { page.voxgradResult = r; }, (e: Error) => { page.voxgradError = `${e.message}\n${e.stack}`; });
