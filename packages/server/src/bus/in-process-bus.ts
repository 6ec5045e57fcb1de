import { FanOutBus } from './fan-out-bus.ts';

/** The default bus: one server process, delivery by function call. */
export class InProcessBus extends FanOutBus {
  readonly shared = false;

  protected send(): Promise<void> {
    return Promise.resolve();
  }

  protected listen(): Promise<void> {
    return Promise.resolve();
  }

  protected unlisten(): Promise<void> {
    return Promise.resolve();
  }

  protected shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
