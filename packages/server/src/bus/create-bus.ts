import type { Bus } from './bus.ts';
import type { FanOutBusOptions } from './fan-out-bus.ts';
import { InProcessBus } from './in-process-bus.ts';
import { RedisBus } from './redis-bus.ts';

export interface BusConfig extends FanOutBusOptions {
  /** `redis://…` selects the Redis bus; without it the bus is in-process. */
  redisUrl?: string;
  channelPrefix?: string;
}

export async function createBus(config: BusConfig = {}): Promise<Bus> {
  if (!config.redisUrl) return new InProcessBus(config);
  return RedisBus.connect({
    url: config.redisUrl,
    ...(config.channelPrefix ? { channelPrefix: config.channelPrefix } : {}),
    ...(config.logger ? { logger: config.logger } : {}),
  });
}
