import type { HttpInstance } from '@larksuiteoapi/node-sdk';
import axios, { AxiosError, type AxiosResponse } from 'axios';

/** Feishu's "too many requests" code; it comes with HTTP 429, and sometimes in a 2xx body. */
export const RATE_LIMITED = 99991400;

/**
 * The HTTP client the Feishu SDK runs on: its own axios instance with a timeout (the SDK's shared default has none,
 * so a stalled connection would hang a post forever). Like the SDK's default, it resolves with the response body,
 * which is what HttpInstance describes; axios's own types do not know about the interceptor, hence the cast.
 * A 2xx whose body says "rate limited" fails like a 429, response and headers included, so it is waited out and
 * sent again the same way (the body alone would lose the reset header).
 */
export function feishuHttpInstance(timeoutMs: number): HttpInstance {
  const http = axios.create({ timeout: timeoutMs });
  http.interceptors.response.use((response: AxiosResponse) => {
    if (bodyCode(response.data) === RATE_LIMITED) {
      throw new AxiosError('rate limited', 'ERR_RATE_LIMITED', response.config, response.request, response);
    }
    return response.data;
  });
  return http as unknown as HttpInstance;
}

function bodyCode(body: unknown): unknown {
  return body !== null && typeof body === 'object' ? (body as { code?: unknown }).code : undefined;
}
