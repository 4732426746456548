// PUT/GET /careplan-csv/{file}: one file of the ケアプランデータ連携標準仕様 CSV, as raw Shift-JIS bytes.
import type { Party } from '../../base/party.js';
import { badRequest } from '../../base/outcome.js';
import type { GatewayContext } from '../../engine/gateway-context.js';
import { exportCareplanFile, importCareplanFile } from '../../services/careplan-csv/service.js';
import type { GatewayResponse } from '../request.js';

export async function putCareplanFile(
  ctx: GatewayContext,
  party: Party,
  file: string,
  body: unknown,
): Promise<GatewayResponse> {
  if (!Buffer.isBuffer(body)) throw badRequest("send the file's bytes as Content-Type: text/csv; charset=Shift_JIS");
  const out = await importCareplanFile(ctx, party, file, body);
  return { status: out.status, body: out.summary, headers: { Location: `/careplan-csv/${file}` } };
}

export async function getCareplanFile(ctx: GatewayContext, party: Party, file: string): Promise<GatewayResponse> {
  return {
    status: 200,
    body: await exportCareplanFile(ctx, party, file),
    headers: { 'Content-Type': 'text/csv; charset=Shift_JIS', 'Content-Disposition': `attachment; filename="${file}"` },
  };
}
