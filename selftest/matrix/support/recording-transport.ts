import WebSocket from 'ws';

export interface CapturedFrame {
  direction: 'sent' | 'received';
  data: string | Uint8Array;
}

/**
 * A `ws` WebSocket that keeps every frame supabase-js sends and receives, byte for byte, so the
 * decoder is tested on what the real client and the stack really exchange.
 */
export function recordingTransport(
  frames: CapturedFrame[],
): new (
  ...args: ConstructorParameters<typeof WebSocket>
) => WebSocket {
  return class RecordingWebSocket extends WebSocket {
    constructor(...args: ConstructorParameters<typeof WebSocket>) {
      super(...args);
      this.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
        frames.push({ direction: 'received', data: isBinary ? toBytes(data) : data.toString() });
      });
    }
    override send(data: unknown, ...rest: unknown[]): void {
      frames.push({
        direction: 'sent',
        data: typeof data === 'string' ? data : toBytes(data as WebSocket.RawData),
      });
      (super.send as (...a: unknown[]) => void)(data, ...rest);
    }
  };
}

function toBytes(data: WebSocket.RawData | ArrayBuffer | ArrayBufferView): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data as Buffer);
}
