// client/ compiles without the DOM library, so its WebRTC and media types are structural (client/webrtcTypes.ts).
// This compiles a page's view with the DOM library: the browser's own objects must fit those shapes as they are.
import { fileURLToPath } from 'node:url';
import t from 'tap';
import ts from 'typescript';

const TYPES = fileURLToPath(new URL('../../../client/webrtcTypes.ts', import.meta.url));
const JOIN = fileURLToPath(new URL('../../../client/join.ts', import.meta.url));

const PAGE = `
import type { MediaDevicesLike, MediaStreamLike, MediaStreamTrackLike, PeerConnectionLike } from ${JSON.stringify(TYPES.replace(/\.ts$/, '.js'))};
import { joinCall } from ${JSON.stringify(JOIN.replace(/\.ts$/, '.js'))};
declare const pc: RTCPeerConnection;
declare const stream: MediaStream;
declare const devices: MediaDevices;
export const a: PeerConnectionLike = pc;
export const b: MediaStreamLike = stream;
export const c: MediaDevicesLike = devices;
export const d: MediaStreamTrackLike = stream.getTracks()[0]!;
export const p = joinCall({ hsUrl: '', login: { user: 'a', password: 'b' }, roomIdOrAlias: '!r:x', localStream: stream });
`;

t.test(
  "a browser's RTCPeerConnection, MediaStream, MediaStreamTrack and MediaDevices fit client/webrtcTypes.ts",
  async (t) => {
    const options: ts.CompilerOptions = {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
      types: [],
      strict: true,
      exactOptionalPropertyTypes: true,
      noEmit: true,
      skipLibCheck: true,
    };
    const pagePath = fileURLToPath(new URL('./__page.ts', import.meta.url));
    const host = ts.createCompilerHost(options);
    const read = host.readFile.bind(host);
    host.readFile = (f) => (f === pagePath ? PAGE : read(f));
    const exists = host.fileExists.bind(host);
    host.fileExists = (f) => f === pagePath || exists(f);
    const getSource = host.getSourceFile.bind(host);
    host.getSourceFile = (f, lang) =>
      f === pagePath ? ts.createSourceFile(f, PAGE, lang) : getSource(f, lang);
    const program = ts.createProgram([pagePath], options, host);
    const problems = ts
      .getPreEmitDiagnostics(program)
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))
      .filter((m) => m !== '');
    t.same(problems, [], 'no type errors');
  },
);
