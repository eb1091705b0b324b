import type { HttpInstance } from '@larksuiteoapi/node-sdk';
import axios from 'axios';

/**
 * The HTTP client the Feishu SDK runs on: its own axios instance with a timeout (the SDK's shared default has none,
 * so a stalled connection would hang a post forever). Like the SDK's default, it resolves with the response body,
 * which is what HttpInstance describes; axios's own types do not know about the interceptor, hence the cast.
 */
export function feishuHttpInstance(timeoutMs: number): HttpInstance {
  const http = axios.create({ timeout: timeoutMs });
  http.interceptors.response.use((response) => response.data);
  return http as unknown as HttpInstance;
}
