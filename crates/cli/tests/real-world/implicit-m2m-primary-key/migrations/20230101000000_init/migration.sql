CREATE TABLE "Order" ("id" INTEGER NOT NULL, CONSTRAINT "Order_pkey" PRIMARY KEY ("id"));
CREATE TABLE "Tag" ("id" INTEGER NOT NULL, CONSTRAINT "Tag_pkey" PRIMARY KEY ("id"));
-- the implicit many-to-many table as Prisma 4 wrote it: a unique index, no primary key
CREATE TABLE "_OrderToTag" ("A" INTEGER NOT NULL, "B" INTEGER NOT NULL);
CREATE UNIQUE INDEX "_OrderToTag_AB_unique" ON "_OrderToTag"("A", "B");
CREATE INDEX "_OrderToTag_B_index" ON "_OrderToTag"("B");
ALTER TABLE "_OrderToTag" ADD CONSTRAINT "_OrderToTag_A_fkey" FOREIGN KEY ("A") REFERENCES "Order"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "_OrderToTag" ADD CONSTRAINT "_OrderToTag_B_fkey" FOREIGN KEY ("B") REFERENCES "Tag"("id") ON DELETE CASCADE ON UPDATE CASCADE;
