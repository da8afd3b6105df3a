-- Prisma orders its steps by the objects of the database before (tables and indexes by name,
-- columns by position), not by the schema's declaration order.
CREATE TABLE "Zeta" ("id" INTEGER NOT NULL, "b" INTEGER, "a" INTEGER, CONSTRAINT "Zeta_pkey" PRIMARY KEY ("id"));
CREATE TABLE "Alpha" ("id" INTEGER NOT NULL, "x" INTEGER NOT NULL, "y" INTEGER NOT NULL, CONSTRAINT "Alpha_pkey" PRIMARY KEY ("id"));
CREATE INDEX "zeta_a" ON "Zeta"("a");
CREATE INDEX "alpha_x" ON "Alpha"("x");
-- implicit many-to-many tables as Prisma 4 wrote them
CREATE TABLE "_AlphaToZeta" ("A" INTEGER NOT NULL, "B" INTEGER NOT NULL);
CREATE UNIQUE INDEX "_AlphaToZeta_AB_unique" ON "_AlphaToZeta"("A", "B");
CREATE INDEX "_AlphaToZeta_B_index" ON "_AlphaToZeta"("B");
CREATE TABLE "_Pairs" ("A" INTEGER NOT NULL, "B" INTEGER NOT NULL);
CREATE UNIQUE INDEX "_Pairs_AB_unique" ON "_Pairs"("A", "B");
CREATE INDEX "_Pairs_B_index" ON "_Pairs"("B");
ALTER TABLE "_AlphaToZeta" ADD CONSTRAINT "_AlphaToZeta_A_fkey" FOREIGN KEY ("A") REFERENCES "Alpha"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "_AlphaToZeta" ADD CONSTRAINT "_AlphaToZeta_B_fkey" FOREIGN KEY ("B") REFERENCES "Zeta"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "_Pairs" ADD CONSTRAINT "_Pairs_A_fkey" FOREIGN KEY ("A") REFERENCES "Zeta"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "_Pairs" ADD CONSTRAINT "_Pairs_B_fkey" FOREIGN KEY ("B") REFERENCES "Zeta"("id") ON DELETE CASCADE ON UPDATE CASCADE;
