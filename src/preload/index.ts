// The only bridge between the sandboxed renderer and the main process: it
// forwards LabApi calls and events, and exposes nothing else.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';

contextBridge.exposeInMainWorld('latentlab', {
  invoke: (name: string, input: unknown) => ipcRenderer.invoke('lab:invoke', name, input),
  subscribe: (listener: (event: string, payload: unknown) => void) => {
    const handler = (_e: IpcRendererEvent, event: string, payload: unknown) => listener(event, payload);
    ipcRenderer.on('lab:event', handler);
    return () => {
      ipcRenderer.removeListener('lab:event', handler);
    };
  },
  artifactBase: 'lab://artifacts/',
});
