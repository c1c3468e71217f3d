/**
 * Trees as standalone SVG: d3's tidy-tree layout (d3-hierarchy) places the nodes, and the SVG is
 * written as text, so it needs no DOM and looks the same in a notebook, a rendered page and a
 * file under figures/ (Figure 4a draws BTPBT's binary tree of layer groups with it).
 *
 * @module
 */
// @deno-types="@types/d3-hierarchy"
import { hierarchy, tree } from "d3-hierarchy";
import { writeFileAtomic } from "../data/atomic.ts";
import { checkName, FIGURES_DIR } from "./paths.ts";
import { show, type Shown } from "./jupyter.ts";

/** One node to draw: its text lines, whether to emphasise it, and its children. */
export interface TreeNode {
  readonly lines: readonly string[];
  readonly emphasis?: boolean;
  /** Drawn faded (e.g. a level that fell below the threshold). */
  readonly faded?: boolean;
  readonly children?: readonly TreeNode[];
}

/** Layout options. */
export interface TreeSvgOptions {
  readonly title?: string;
  /** Horizontal space per leaf and vertical space per level, in pixels. */
  readonly nodeWidth?: number;
  readonly levelHeight?: number;
  /** One caption per depth, drawn at the left margin (e.g. "level 1: 10.2% replaced"). */
  readonly levelCaptions?: readonly string[];
}

const LINE_HEIGHT = 14;

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** The tree as an SVG document (root at the top). */
export function treeSvg(root: TreeNode, options: TreeSvgOptions = {}): string {
  const nodeWidth = options.nodeWidth ?? 110;
  const levelHeight = options.levelHeight ?? 90;
  const captionWidth = options.levelCaptions ? 190 : 0;
  const top = options.title ? 40 : 16;
  const h = hierarchy<TreeNode>(root, (n) => n.children as TreeNode[] | undefined);
  const laid = tree<TreeNode>().nodeSize([nodeWidth, levelHeight])(h);
  const nodes = laid.descendants();
  const minX = Math.min(...nodes.map((n) => n.x));
  const maxX = Math.max(...nodes.map((n) => n.x));
  const maxLines = Math.max(...nodes.map((n) => n.data.lines.length));
  const boxHeight = maxLines * LINE_HEIGHT + 8;
  const boxWidth = nodeWidth - 12;
  const left = captionWidth + boxWidth / 2 + 8 - minX;
  const width = Math.ceil(maxX - minX + boxWidth + captionWidth + 16);
  const height = Math.ceil(top + laid.height * levelHeight + boxHeight + 16);
  const at = (n: { x: number; y: number }) => ({ x: n.x + left, y: n.y + top });

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      `font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
  );
  if (options.title) {
    parts.push(`<text x="8" y="20" font-size="14" font-weight="bold">${escapeXml(options.title)}</text>`);
  }
  for (const link of laid.links()) {
    const s = at(link.source), t = at(link.target);
    parts.push(
      `<line x1="${s.x}" y1="${s.y + boxHeight}" x2="${t.x}" y2="${t.y}" stroke="#999" stroke-width="1.2"/>`,
    );
  }
  for (const n of nodes) {
    const { x, y } = at(n);
    const stroke = n.data.emphasis ? "#d62728" : "#1f77b4";
    const opacity = n.data.faded ? 0.4 : 1;
    parts.push(
      `<g opacity="${opacity}"><rect x="${
        x - boxWidth / 2
      }" y="${y}" width="${boxWidth}" height="${boxHeight}" ` +
        `rx="5" fill="#f4f8fc" stroke="${stroke}" stroke-width="${n.data.emphasis ? 2.5 : 1.2}"/>`,
    );
    n.data.lines.forEach((line, i) => {
      parts.push(
        `<text x="${x}" y="${y + 4 + (i + 0.8) * LINE_HEIGHT}" text-anchor="middle">${
          escapeXml(line)
        }</text>`,
      );
    });
    parts.push("</g>");
  }
  (options.levelCaptions ?? []).forEach((caption, depth) => {
    parts.push(
      `<text x="8" y="${top + depth * levelHeight + boxHeight / 2 + 4}" fill="#444">${
        escapeXml(caption)
      }</text>`,
    );
  });
  parts.push("</svg>");
  return parts.join("\n");
}

/** Shows an SVG in a notebook (prints `text` elsewhere). */
export function showSvg(svg: string, text: string): Shown {
  return show({ "image/svg+xml": svg, "text/plain": text }, text);
}

/** Writes `<dir>/<name>.svg` (default figures/) and returns its path. */
export async function writeSvg(name: string, svg: string, dir: string = FIGURES_DIR): Promise<string> {
  const path = `${dir}/${checkName(name)}.svg`;
  await writeFileAtomic(path, svg);
  return path;
}
