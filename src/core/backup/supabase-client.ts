import { createClient, type SupabaseClient } from '@supabase/supabase-js';

/**
 * A supabase-js client for the Storage API with a service key: no session kept or refreshed,
 * and Realtime never opened (on Node 20, which has no global WebSocket, supabase-js refuses to
 * construct a client without a transport, so it gets one that cannot be used).
 */
export function storageApiClient(url: string, serviceKey: string): SupabaseClient {
  return createClient(url, serviceKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    realtime: { transport: UnusedWebSocket as never },
  });
}

class UnusedWebSocket {
  constructor() {
    throw new Error('supagate does not use Supabase Realtime');
  }
}

/** The HTTP status supabase-js put on an error, when it has one. */
export function httpStatusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown })?.status;
  return typeof status === 'number' ? status : undefined;
}
