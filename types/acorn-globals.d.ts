declare module "acorn-globals" {
  import type { Node, Options } from "acorn";
  interface Global {
    name: string;
    nodes: Node[];
  }
  export default function detect(source: string | Node, options?: Options): Global[];
}
